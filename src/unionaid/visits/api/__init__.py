"""/api/v1/visits: campaigns and pairings (``campaigns``), visits, profiles, needs and
follow-ups (``records``)."""

from ninja import Router

from unionaid.visits.api.campaigns import router as campaigns_router
from unionaid.visits.api.records import router as records_router

router = Router(tags=["visits"])
router.add_router("/campaigns", campaigns_router)
router.add_router("", records_router)
