"""The visit page asks every entry registered in ``visits.detail_context`` about the visit's
member (visits imports no domain above it): a toy entry registered by this test alone shows
up in the page's context, and the hardship archive registers its own at start-up."""

# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import pytest

from conftest import verified_login
from unionaid.archive.visit_state import archive_state
from unionaid.visits import detail_context
from unionaid.visits.services import visits as visit_services

from .helpers_records import new_uuid, rec, visit_data  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def toy_entry():
    calls = []

    def entry(*, user, member):
        calls.append((user.username, member.pk))
        return {"wish": f"{member.name}的心愿"}

    detail_context.register("toy_wish", entry)
    yield calls
    detail_context.unregister("toy_wish")


def test_a_registered_entry_reaches_the_visit_page(client, rec, toy_entry):
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                           data=visit_data(rec.member))
    response = verified_login(client, rec.visitor_a).get(f"/visits/{visit.pk}/")
    assert response.status_code == 200
    assert response.context["toy_wish"] == {"wish": f"{rec.member.name}的心愿"}
    assert toy_entry == [(rec.visitor_a.username, rec.member.pk)]
    assert "archive" in response.context  # the archive's entry (None: no archive rights)
    assert response.context["archive"] is None


def test_the_archive_registers_its_entry_and_a_name_is_taken_once():
    assert detail_context._ENTRIES["archive"] is archive_state
    with pytest.raises(ValueError, match="already registered"):
        detail_context.register("archive", lambda *, user, member: None)
