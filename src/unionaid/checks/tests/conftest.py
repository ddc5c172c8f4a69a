"""A throwaway check and population for the engine's tests, and the auditors.

``planted``: a list of ``Found`` the check "test.planted" returns (the tests change it);
auditors: ``bureau_auditor`` (whole tree), ``station_auditor`` (站段 A and below), both with
checks.view + checks.review + trace.view; ``reader`` (checks.view only).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.checks import registry


@pytest.fixture
def planted():
    items: list[registry.Found] = []

    def find(*, paths, now):
        return list(items)

    registry.register_check(registry.Check(key="test.planted", label="测试核查",
                                           description="测试用", find=find))
    yield items
    registry.unregister_check("test.planted")


@pytest.fixture
def cases():
    items: list[registry.Case] = []

    def find_cases(*, paths, date_from=None, date_to=None, min_amount=None, item=None):
        return [c for c in items
                if (min_amount is None or (c.amount or 0) >= min_amount)
                and (item is None or c.label.endswith(item))]

    registry.register_population(registry.Population(
        key="test.cases", label="测试案例", cases=find_cases,
        items=lambda: [("it-a", "项目甲"), ("it-b", "项目乙")]))
    yield items
    registry.unregister_population("test.cases")


def found(unit, n: int, *, member=None, amount="100.00") -> registry.Found:
    refs = [registry.Ref("members.member", member.pk, "张*")] if member else []
    return registry.Found(fingerprint=f"fp-{n}", unit_path=unit.path, summary=f"疑点{n}",
                          evidence={"依据": f"第{n}条"}, records=refs,
                          amount=Decimal(amount), member_id=member.pk if member else None)


def case(unit, n: int, *, member=None, amount="100.00", item="it-a") -> registry.Case:
    return registry.Case(subject_kind="test.case", subject_id=n, unit_path=unit.path,
                         member_id=member.pk if member else None, label=f"案例{n} {item}",
                         amount=Decimal(amount), url="")


@pytest.fixture
def auditors(union):
    perms = ["org.view", "checks.view", "checks.review", "trace.view"]
    return {
        "bureau": make_staff("bureau_auditor", union.bureau,
                             [make_role("aud-all", perms, DataScope.ALL)]),
        "station": make_staff("station_auditor", union.station_a,
                              [make_role("aud-station", perms)]),
        "reader": make_staff("checks_reader", union.station_a,
                             [make_role("aud-read", ["org.view", "checks.view"])]),
    }
