"""Shared API plumbing schemas: the error body, and the two bases every request schema derives
from. Each operation defines its own input and output schemas next to its endpoint (STYLE:
schemas are not reused across operations).

Request schemas are strict about JSON types (one rule for the whole API, in one place):

* ``InputSchema`` (a request body) must be a JSON object, and each value must already have its
  field's JSON type — no ``false`` for an object, no ``0`` for a date, no ``"1"`` for a number,
  no ``1`` for a yes/no. Dates, amounts and choices still arrive as their usual strings.
* ``QuerySchema`` (query-string parameters, which are all text) takes dates only as ISO dates
  (``2026-01-31``), not as numbers of seconds.
* Neither takes text with a NUL character (PostgreSQL cannot store one; it would be a 500).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import BaseModel, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError


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


# -- strict request schemas ---------------------------------------------------------------------

_NONE = type(None)
_TEMPORAL = (dt.date, dt.datetime, dt.time)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ].*)?\Z")


def _options(annotation) -> list:
    """The alternatives of ``annotation`` (``int | None`` → ``[int, None]``), Annotated unwrapped."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _options(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [opt for arg in typing.get_args(annotation) for opt in _options(arg)]
    return [annotation]


def _json_type_fits(value: Any, annotation) -> bool:
    """Whether a value parsed from JSON has the JSON type ``annotation`` stands for."""
    for option in _options(annotation):
        origin = typing.get_origin(option) or option
        if option is Any or isinstance(option, typing.TypeVar):
            return True
        if option in (None, _NONE):
            if value is None:
                return True
        elif option is bool:
            if isinstance(value, bool):
                return True
        elif option is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif option in (float, Decimal):
            if isinstance(value, (int, float, str, Decimal)) and not isinstance(value, bool):
                return True
        elif isinstance(option, type) and issubclass(option, _TEMPORAL):
            if isinstance(value, (str, option)):
                return True
        elif isinstance(option, type) and issubclass(option, enum.Enum):
            raw = int if issubclass(option, int) else str  # IntegerChoices take numbers
            if isinstance(value, (raw, option)) and not isinstance(value, bool):
                return True
        elif option is str:
            if isinstance(value, str):
                return True
        elif origin in (list, set, frozenset, tuple):
            if isinstance(value, (list, tuple)):
                args = typing.get_args(option)
                item = args[0] if args else Any
                return all(_json_type_fits(v, item) for v in value)
        elif origin is dict:
            if isinstance(value, dict):
                return True
        elif isinstance(option, type) and issubclass(option, BaseModel):
            if isinstance(value, (dict, option)):
                return True
        else:
            return True  # a type this check does not know: leave it to pydantic
    return False


def _has_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in a parsed JSON value (PostgreSQL stores none)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(v) for v in value)
    return False


class InputSchema(Schema):
    """A request body: a JSON object whose values have their fields' JSON types."""

    @model_validator(mode="wrap")
    @classmethod
    def _an_object(cls, value, handler, info: ValidationInfo):
        if not isinstance(value, (dict, cls)):
            raise PydanticCustomError("model_type", "应为 JSON 对象。")
        if isinstance(value, dict) and _has_nul(value):
            raise PydanticCustomError("nul_character", "文字中不能含有 NUL 字符。")
        return handler(value)

    @field_validator("*", mode="before")
    @classmethod
    def _json_type(cls, value, info: ValidationInfo):
        field = cls.model_fields.get(info.field_name) if info.field_name else None
        if field is not None and not _json_type_fits(value, field.annotation):
            raise PydanticCustomError("strict_type", "类型不正确。")
        return value


class QuerySchema(Schema):
    """Query-string parameters: dates only as ISO dates (``2026-01-31``), no NUL characters."""

    @field_validator("*", mode="before")
    @classmethod
    def _iso_dates(cls, value, info: ValidationInfo):
        if _has_nul(value):
            raise PydanticCustomError("nul_character", "文字中不能含有 NUL 字符。")
        field = cls.model_fields.get(info.field_name) if info.field_name else None
        if (field is not None and isinstance(value, str)
                and any(isinstance(o, type) and issubclass(o, _TEMPORAL)
                        for o in _options(field.annotation))
                and not _ISO_DATE.match(value)):
            raise PydanticCustomError("date_format", "日期格式应为 YYYY-MM-DD。")
        return value
