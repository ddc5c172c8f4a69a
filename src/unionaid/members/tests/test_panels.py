"""The member page's panel registry (members/panels.py): a domain's registered panel shows on the
page for users whose rights reach it, and nothing unregistered or unpermitted does."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.urls import reverse

from unionaid.members.panels import (
    MemberAction,
    MemberPanel,
    register_member_action,
    register_member_panel,
    unregister_member_action,
    unregister_member_panel,
)

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Toy:
    """A panel's context function that remembers whom it was asked about."""

    asked: list[tuple[str, int]] = field(default_factory=list)

    def __call__(self, user, member) -> dict | None:
        self.asked.append((user.username, member.pk))
        return {"text": "玩具内容"}


@pytest.fixture
def toy_templates(settings):
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [*engine["DIRS"], TEMPLATES]}]


@pytest.fixture
def toy(toy_templates):
    toy = Toy()
    yield toy
    unregister_member_panel("toy")
    unregister_member_action("toy")


def register_toy(toy: Toy, permission: str) -> None:
    register_member_panel(MemberPanel(key="toy", order=99, permission=permission, context=toy,
                                      template="members_tests/_toy_panel.html"))


@pytest.fixture
def member(union, make_member):
    return make_member(union.team_a)


def page(client, user, member):
    client.force_login(user)
    response = client.get(reverse("members:member-detail", args=[member.pk]))
    assert response.status_code == 200
    return response


def test_a_registered_panel_shows_on_the_member_page(client, personas, member, toy):
    register_toy(toy, "members.view")
    register_member_action(MemberAction(key="toy", order=99,
                                        template="members_tests/_toy_action.html"))
    response = page(client, personas.team_cadre, member)
    html = response.content.decode()
    assert response.context["summary"]["toy"] == {"text": "玩具内容"}
    assert 'id="member-summary"' in html  # the 帮扶概况 card shows for the toy part alone
    assert f'id="summary-toy">玩具内容 · {member.name}</dd>' in html
    assert f'href="#toy-{member.pk}">玩具操作</a>' in html
    assert toy.asked == [("team_cadre", member.pk)]


def test_a_panel_is_not_asked_of_a_user_without_its_permission(client, personas, member, toy):
    register_toy(toy, "archive.config")  # no persona's cadre role carries it
    response = page(client, personas.team_cadre, member)
    html = response.content.decode()
    assert response.context["summary"]["toy"] is None
    assert 'id="summary-toy"' not in html
    assert "玩具内容" not in html
    assert toy.asked == []


def test_an_unregistered_panel_is_absent(client, personas, member, toy):
    register_toy(toy, "members.view")
    unregister_member_panel("toy")
    response = page(client, personas.team_cadre, member)
    html = response.content.decode()
    assert "toy" not in response.context["summary"]
    assert 'id="summary-toy"' not in html
    assert 'id="member-summary"' not in html  # the cadre's role reaches no other panel
    assert toy.asked == []
