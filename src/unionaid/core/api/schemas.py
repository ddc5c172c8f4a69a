"""Shared API plumbing schemas: the error body only. Each operation defines its own input and
output schemas next to its endpoint (STYLE: schemas are not reused across operations)."""

from __future__ import annotations

from ninja import Schema


class ErrorOut(Schema):
    """Every error answer: a stable ``code`` and a Simplified-Chinese ``message``; ``fields``
    maps input fields to their messages when the input was invalid."""

    code: str
    message: str
    fields: dict[str, str] | None = None


# The error answers most operations can give, for the OpenAPI description.
READ_ERRORS = {401: ErrorOut, 404: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                422: ErrorOut}
