"""Close guards (org/guards.py): other apps refuse to let a unit close without org knowing them."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from unionaid.accounts.services import unit_close_guard as posts_guard
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict
from unionaid.members.services import unit_close_guard as members_guard
from unionaid.org import guards, services
from unionaid.org.models import OrgUnit


@dataclass
class Toy:
    blocked: set[int] = field(default_factory=set)
    asked: list[int] = field(default_factory=list)

    def __call__(self, unit: OrgUnit) -> None:
        self.asked.append(unit.pk)
        if unit.pk in self.blocked:
            raise Conflict("玩具：该单位还有未办结事项。", code="toy_open_items")


@pytest.fixture
def toy():
    toy = Toy()
    guards.register_close_guard("tests.toy", toy, order=40)
    yield toy
    guards.unregister_close_guard("tests.toy")


def test_a_registered_guard_refuses_to_close_a_unit(union, personas, toy):
    toy.blocked.add(union.team_b.pk)
    with pytest.raises(Conflict) as exc:
        services.orgunit_close(actor=personas.bureau_admin, unit=union.team_b)
    assert exc.value.code == "toy_open_items"
    assert not OrgUnit.objects.get(pk=union.team_b.pk).is_closed
    assert not AuditEvent.objects.filter(action="org.close").exists()


def test_a_guard_that_finds_nothing_lets_the_unit_close(union, personas, toy):
    assert services.orgunit_close(actor=personas.bureau_admin, unit=union.team_b).is_closed
    assert toy.asked == [union.team_b.pk]


def test_an_unregistered_guard_is_not_asked(union, personas, toy):
    toy.blocked.add(union.team_b.pk)
    guards.unregister_close_guard("tests.toy")
    assert services.orgunit_close(actor=personas.bureau_admin, unit=union.team_b).is_closed
    assert toy.asked == []


def test_members_then_open_sub_units_then_posts_are_checked_in_that_order():
    assert guards.close_guards() == [members_guard, guards.no_open_children, posts_guard]
