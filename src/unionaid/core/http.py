"""Small helpers shared by the back-office views: 404 for out-of-scope records, service errors
onto forms, and cheap "next page" paging that never counts a large set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext_lazy as _

from unionaid.core import masking
from unionaid.core.access import access_for
from unionaid.core.errors import NotFound, ServiceError

T = TypeVar("T")

PAGE_SIZE = 50
MAX_PAGE = 10_000


def or_404(getter: Callable[..., T], **kwargs: Any) -> T:
    """Call a ``*_get_for_user`` selector; out of scope (NotFound) becomes a plain 404."""
    try:
        return getter(**kwargs)
    except NotFound:
        raise Http404() from None


def perm_required(perm: str):
    """Logged in and ``perm`` held; otherwise the page doesn't exist (404). Pages whose users
    may need a second factor use ``accounts.views.perm_required``, which adds it."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if not access_for(request.user).has_perm(perm):
                raise Http404()
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def apply_service_error(form: forms.Form, exc: ServiceError) -> None:
    """Put a ServiceError's Chinese messages on the form, per field where the form has it."""
    placed = False
    for field, message in (exc.fields or {}).items():
        if field in form.fields:
            form.add_error(field, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@dataclass(frozen=True)
class CheapPage:
    """One page of rows, fetched as ``size + 1`` rows to know whether another page exists."""

    rows: list
    number: int
    has_next: bool
    size: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_number(self) -> int:
        return self.number + 1

    @property
    def previous_number(self) -> int:
        return self.number - 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0


def page_number(raw: str | None) -> int:
    try:
        number = int(raw or 1)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), MAX_PAGE)


def cheap_page(queryset, raw_page: str | None, *, size: int = PAGE_SIZE,
               fetch: Callable[[Any, int, int], list] | None = None) -> CheapPage:
    """Page ``raw_page`` of ``queryset``. ``fetch(queryset, start, stop)``: how a list whose
    rows are dear to join loads its slice (e.g. ids first, then those rows)."""
    number = page_number(raw_page)
    offset = (number - 1) * size
    rows = (fetch(queryset, offset, offset + size + 1) if fetch is not None
            else list(queryset[offset : offset + size + 1]))
    return CheapPage(rows=rows[:size], number=number, has_next=len(rows) > size, size=size)


def private_file_response(handle, *, content_type: str, filename: str,
                          download: bool = False) -> FileResponse:
    """A private document (an applicant's material) for one reader: photos open inline, PDFs
    and everything else download; never cached, never sniffed, never able to run in our origin."""
    inline = content_type.startswith("image/") and not download
    response = FileResponse(handle, content_type=content_type, as_attachment=not inline,
                            filename=filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store, max-age=0"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


# What a GET search form says to an ID number or phone typed into it.
IDENTIFIER_IN_URL = _("这里不能按身份证号或手机号查找（会出现在网址中）；请到“职工”页查找该职工。")


def not_an_identifier(value: str | None) -> None:
    """Validator for the text box of a search form sent by GET: an ID number or phone would
    land in the URL (and the access log), so it is refused, with a pointer to the member page
    whose search posts."""
    if masking.looks_like_identifier(value):
        raise ValidationError(IDENTIFIER_IN_URL, code="identifier_in_url")
