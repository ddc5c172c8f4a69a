"""Audit checks (核查规则) and case populations for sampling: what the auditor's checks engine may
run. The engine knows no domain; each check is registered at start-up by the app that owns the
data it reads, in its ``AppConfig.ready()``::

    from unionaid.checks.registry import Check, register_check
    register_check(Check(key="assistance.shared_account", label=_("一个银行账号为多名职工收款"),
                         description=_("…"), find=find_shared_accounts))

``find(*, paths, now)`` returns the suspicious items (``Found``) under the unit paths ``paths``
(None = the whole tree; a check may ignore the hint, the engine keeps only findings inside it).
Each ``Found`` has a stable ``fingerprint``: the engine stores it once, keeps its explanation
across runs, and marks it resolved when a run no longer returns it.

A population (``register_population``) lists the cases a sample may be drawn from (e.g. paid
assistance applications), for the rules of ``checks.models.SampleRule``.

Nothing has a default: a check or population nobody registered is "not found".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")
KEY_MAX_LENGTH = 60
STEPLEN = 4  # org paths (treebeard): four characters a level


@dataclass(frozen=True)
class Ref:
    """A record a finding concerns, as a typed reference: ``kind`` ("funds.disbursement",
    "assistance.application", "members.member", "funds.disbursementbatch",
    "approvals.approvalcase" …), its ``id``, a ``label`` for people (masked) and the ``url`` of
    the page that shows it ("" for none)."""

    kind: str
    id: int | str
    label: str
    url: str = ""

    def as_json(self) -> dict:
        return {"kind": self.kind, "id": self.id, "label": self.label, "url": self.url}


@dataclass
class Found:
    """One suspicious item a check found.

    ``fingerprint``  stable across runs (at most 128 characters, no personal data in clear);
    ``unit_path``    the path of the smallest subtree holding every record it concerns
                     (``common_path`` helps): only auditors covering it see the finding;
    ``summary``      one line for people (masked names only);
    ``evidence``     a short ``{label: value}`` table (strings or numbers, masked values only);
    ``records``      the records it concerns (``Ref``);
    ``amount``       the money involved, or None;
    ``member_id``    the member it is mainly about (its read is journaled), or None.
    """

    fingerprint: str
    unit_path: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    records: list[Ref] = field(default_factory=list)
    amount: Decimal | None = None
    member_id: int | None = None


@dataclass(frozen=True)
class Check:
    """One registered check: ``key`` "<app>.<check>"; ``label`` and ``description`` (the rule
    and its thresholds, in words) for people; ``find(*, paths, now) -> Iterable[Found]``."""

    key: str
    label: Any
    description: Any
    find: Callable[..., Iterable[Found]]


@dataclass(frozen=True)
class Case:
    """A case a sample may draw: the subject (``subject_kind`` and ``subject_id``), its unit's
    path, its member, a label for people (masked), the amount and the page that shows it."""

    subject_kind: str
    subject_id: int
    unit_path: str
    member_id: int | None
    label: str
    amount: Decimal | None
    url: str = ""


@dataclass(frozen=True)
class Population:
    """Cases to sample from. ``cases(*, paths, date_from, date_to, min_amount, item)`` returns
    the cases under ``paths`` (None = all) in the period, at least ``min_amount`` and of the
    item code ``item`` when given, in a stable order (by id); ``items()`` the item codes and
    names a rule may name."""

    key: str
    label: Any
    cases: Callable[..., list[Case]]
    items: Callable[[], list[tuple[str, str]]]


_CHECKS: dict[str, Check] = {}
_POPULATIONS: dict[str, Population] = {}


def _valid_key(key: str) -> None:
    if len(key) > KEY_MAX_LENGTH or not KEY_PATTERN.match(key):
        raise ValueError(f"key {key!r} is not '<app>.<name>' (lower case, at most "
                         f"{KEY_MAX_LENGTH} characters)")


def register_check(check: Check) -> None:
    """Register ``check``. A malformed key or another check under a taken key is a programming
    error."""
    _valid_key(check.key)
    current = _CHECKS.get(check.key)
    if current is not None and current.find is not check.find:
        raise ValueError(f"check {check.key!r} is already registered")
    _CHECKS[check.key] = check


def unregister_check(key: str) -> None:
    """For tests that register a throwaway check."""
    _CHECKS.pop(key, None)


def check_or_none(key: str) -> Check | None:
    return _CHECKS.get(key)


def checks() -> list[Check]:
    """Every registered check, in key order."""
    return [_CHECKS[key] for key in sorted(_CHECKS)]


def register_population(population: Population) -> None:
    _valid_key(population.key)
    current = _POPULATIONS.get(population.key)
    if current is not None and current.cases is not population.cases:
        raise ValueError(f"population {population.key!r} is already registered")
    _POPULATIONS[population.key] = population


def unregister_population(key: str) -> None:
    _POPULATIONS.pop(key, None)


def population_or_none(key: str) -> Population | None:
    return _POPULATIONS.get(key)


def populations() -> list[Population]:
    return [_POPULATIONS[key] for key in sorted(_POPULATIONS)]


def common_path(paths: Iterable[str]) -> str:
    """The path of the deepest unit whose subtree holds every one of ``paths`` (whole levels
    only): ``["00010002", "000100030001"]`` → ``"0001"``."""
    paths = [p for p in paths if p]
    if not paths:
        return ""
    prefix = paths[0]
    for path in paths[1:]:
        size = 0
        while size < min(len(prefix), len(path)) and prefix[size] == path[size]:
            size += 1
        prefix = prefix[:size]
    return prefix[: len(prefix) - len(prefix) % STEPLEN]


def within(path: str, paths: list[str] | None) -> bool:
    """Is the unit at ``path`` inside one of the subtrees ``paths`` (None = the whole tree)?"""
    return paths is None or any(path.startswith(p) for p in paths)
