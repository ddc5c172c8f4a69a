"""The API tests of notifications: the shared issue-3 chain set-up (staff, flow, submitted and the
catalog, budget and worker they build on) from unionaid.assistance.tests.api_chain."""

from unionaid.assistance.tests.api_chain import (  # noqa: F401
    _private_media,
    budget,
    categories,
    flow,
    illness,
    make_item,
    new_worker,
    source,
    staff,
    submitted,
)
