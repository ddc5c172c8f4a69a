"""Searches by ID number or phone travel only in POST bodies: a query string is written to the
web server's access log, a request body is not. Every list operation with a free-text ``q``
refuses such a value in its URL and offers a ``POST …/search`` twin that takes it in the body."""

from __future__ import annotations

from django.utils.translation import gettext as _

from unionaid.core import masking
from unionaid.core.errors import ServiceError


def refuse_identifier_in_url(query: str | None, *, search_path: str) -> None:
    """Refuse (400 ``use_post_search``) a ``q`` in the URL that may be an ID number or phone;
    the search is not run. ``search_path`` is the POST operation to use instead."""
    if masking.looks_like_identifier(query):
        raise ServiceError(
            _("身份证号、手机号不能放在网址中，请使用 POST %(path)s。") % {"path": search_path},
            code="use_post_search")
