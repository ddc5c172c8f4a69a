"""/api/v1/assistance: the catalog, an estimate, and applications with their materials, for a
mini-program or app front end, under the same rules as the pages.

A worker files and sees only their own applications; a cadre files on a worker's behalf (代办)
within their ``assistance.apply`` scope and sees the applications of their ``assistance.view``
scope. Every read goes through ``assistance.selectors``; out of scope is "not found". Refusals
(duplicate, yearly cap, not eligible, materials missing …) come back as ``{code, message}``
with the service's Chinese message. The funds ledgers (``ledgers``) export the payment and
budget execution ledgers of the caller's funds.view scope.
"""

from __future__ import annotations

from ninja import Router

from unionaid.assistance.api import applications, caps, catalog, ledgers, materials

router = Router()
router.add_router("", catalog.router)
router.add_router("", applications.router)
router.add_router("", materials.router)
router.add_router("", caps.router)
router.add_router("", ledgers.router)
