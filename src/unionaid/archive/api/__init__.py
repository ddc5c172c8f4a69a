"""/api/v1/archive: records, enrolment, exit, configuration (``records``); watch lists and
ledgers (``lists``)."""

from ninja import Router

from unionaid.archive.api.lists import router as lists_router
from unionaid.archive.api.records import router as records_router

router = Router(tags=["archive"])
router.add_router("", records_router)
router.add_router("", lists_router)
