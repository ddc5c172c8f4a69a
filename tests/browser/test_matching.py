"""政策找职工 in a real browser: the station cadre works the leads the demo's lists raised (accepts
one that plans a visit, dismisses another with a reason) and decides a review item; the bureau
cadre sees the five lists and a run's results. Every page is checked (checks.py)."""

from __future__ import annotations

import re

from unionaid.accounts.models import User
from unionaid.matching.leads.selectors import leads_visible_to
from unionaid.matching.models import Match, MatchStatus
from unionaid.matching.models_leads import Lead, LeadAction, LeadStatus
from unionaid.matching.selectors import review_queue


def _open_lead(cadre, lead: Lead) -> None:
    cadre.go("/matching/leads/")
    cadre.click(cadre.page.locator(f"main a[href='/matching/leads/{lead.pk}/']"))
    assert cadre.path == f"/matching/leads/{lead.pk}/"


def test_station_cadre_accepts_one_lead_and_dismisses_another(browse):
    station = User.objects.get(username="station_cadre")
    visible = list(leads_visible_to(user=station, status=LeadStatus.RAISED)
                   .filter(rule__action=LeadAction.VISIT)[:2])
    assert len(visible) == 2, "the demo raises 低保 visit leads in the cadre's 站段"
    cadre = browse("station_cadre")
    first, second = visible

    _open_lead(cadre, first)
    due = cadre.page.locator("#lead-accept input[name=due_on]")
    if due.count():
        due.fill("2027-01-15")
    cadre.click(cadre.page.locator("#lead-accept button[type=submit]"))
    first.refresh_from_db()
    assert first.status == LeadStatus.ACCEPTED, cadre.text()[:300]
    assert "已采纳" in cadre.text() or "采纳" in cadre.text()

    _open_lead(cadre, second)
    cadre.page.locator("#lead-dismiss [name=reason]").fill("经入户核实，家庭收入已高于低保标准。")
    cadre.click(cadre.page.locator("#lead-dismiss button[type=submit]"))
    second.refresh_from_db()
    assert second.status == LeadStatus.DISMISSED
    assert second.dismiss_reason == "经入户核实，家庭收入已高于低保标准。"


def test_station_cadre_decides_a_review_item_as_the_same_person(browse):
    station = User.objects.get(username="station_cadre")
    waiting = list(review_queue(user=station)[:1])
    assert waiting, "the demo leaves a 低保 row in the review band in the cadre's 站段"
    cadre = browse("station_cadre")
    cadre.go("/matching/review/")
    row = cadre.page.locator(f"#match-{waiting[0].pk}")
    row.locator("button[value=confirmed]").click()  # htmx swaps the row in place
    cadre.page.wait_for_function(
        f"() => !document.querySelector('#match-{waiting[0].pk} button[value=confirmed]')")
    cadre.check()
    assert Match.objects.get(pk=waiting[0].pk).status == MatchStatus.CONFIRMED


def test_bureau_cadre_sees_the_five_lists_and_a_runs_results(browse):
    bureau = browse("bureau_cadre")
    bureau.go("/matching/")
    datasets = bureau.page.locator("main a[href^='/matching/datasets/']")
    assert datasets.count() >= 5
    bureau.click(datasets.first)
    assert re.match(r"/matching/datasets/\d+/", bureau.path)
    run = bureau.page.locator("main a[href^='/matching/runs/']")
    assert run.count() > 0, bureau.text()[:300]
    bureau.click(run.first)
    assert re.match(r"/matching/runs/\d+/", bureau.path)
    assert "得分" in bureau.text()
