"""What the phone walkthrough of issue 4 asked of the visit pages: the form counts a visit in
the running campaign, says when a profile is recorded for the first time and flags the
consents a profile needs before it is sent; unsent drafts show (and are sent) from the visit
ledger; a visit that found hardship leads on to the archive; a need offers the items the
worker qualifies for first."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from conftest import make_role, make_staff, verified_login
from unionaid.archive.flows import archive_flows_ensure
from unionaid.archive.models import DibaoStandard
from unionaid.archive.services.records import record_enrol
from unionaid.assistance import services as assistance_services
from unionaid.visits.models import CampaignStatus, Visit, VisitCampaign
from unionaid.visits.services import visits as visit_services

from .helpers_records import (  # noqa: F401
    VISITOR_PERMS,
    catalog,
    new_uuid,
    rec,
    today,
    visit_data,
)
from .test_visits_views import form_post

NEW = "/visits/new/"


@pytest.fixture
def cadre(client, rec):
    return verified_login(client, rec.visitor_a)


def running_campaign(rec, *, covered, name="进万家大走访", status=CampaignStatus.ACTIVE):
    campaign = VisitCampaign.objects.create(
        name=name, org_unit=rec.union.bureau, status=status,
        starts_on=today() - dt.timedelta(days=10), ends_on=today() + dt.timedelta(days=10))
    campaign.covered_units.set(covered)
    return campaign


def selected_campaign(html: str) -> str | None:
    select = re.search(r'<select[^>]*name="campaign_id".*?</select>', html, re.S)
    if select is None:
        return None
    chosen = re.search(r'<option value="(\d*)" selected>', select.group(0))
    return chosen.group(1) if chosen else ""


# -- the form ---------------------------------------------------------------------------------

def test_the_form_starts_in_the_one_running_campaign_covering_the_member(cadre, rec):
    campaign = running_campaign(rec, covered=[rec.union.station_a])
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert selected_campaign(html) == str(campaign.pk)
    assert "不属于走访行动" in html  # the cadre may still say "none"


def test_the_form_leaves_the_choice_open_between_two_running_campaigns(cadre, rec):
    running_campaign(rec, covered=[rec.union.station_a], name="甲")
    running_campaign(rec, covered=[rec.union.bureau], name="乙")
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert selected_campaign(html) == ""


def test_campaigns_elsewhere_or_closed_are_not_offered(cadre, rec):
    running_campaign(rec, covered=[rec.union.station_b])
    running_campaign(rec, covered=[rec.union.station_a], status=CampaignStatus.CLOSED)
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert selected_campaign(html) is None
    assert 'name="campaign_id"' not in html


def test_a_visit_sent_with_the_preselected_campaign_counts_in_it(cadre, rec):
    campaign = running_campaign(rec, covered=[rec.union.station_a])
    chosen = selected_campaign(cadre.get(f"{NEW}?member={rec.member.pk}").content.decode())
    response = cadre.post(NEW, form_post(rec.member, new_uuid(), campaign_id=chosen))
    assert response.status_code == 302
    assert Visit.objects.get().campaign == campaign
    detail = cadre.get(response["Location"]).content.decode()
    assert "进万家大走访" in detail


def test_the_first_profile_is_not_called_a_prefill(cadre, rec):
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert "首次登记家庭情况" in html
    assert "已按最近一次登记预填" not in html
    visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                data=visit_data(rec.member))
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert "已按最近一次登记预填" in html
    assert "首次登记家庭情况" not in html


def test_the_form_carries_both_consent_hints_for_the_script(cadre, rec):
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert 'data-consent-hint="health"' in html
    assert 'data-consent-hint="children"' in html
    assert 'data-consent-missing="' in html
    # the script asks for the health consent on the same grounds as the service
    assert 'data-health-causes="disability illness"' in html
    assert 'data-health-loss-kinds="major_illness"' in html


# -- unsent drafts on the ledger ----------------------------------------------------------------

def test_the_visit_ledger_lists_and_sends_unsent_drafts(cadre, client, rec):
    html = cadre.get("/visits/").content.decode()
    assert 'id="local-drafts"' in html
    assert 'data-submit-url="/visits/new/"' in html
    assert "js/visit-form.js" in html
    assert 'data-t-view="' in html  # a draft sent from the ledger links to its visit
    viewer = verified_login(client, rec.viewer_a).get("/visits/").content.decode()
    assert 'id="local-drafts"' not in viewer  # no right to record: nothing to send
    assert "js/visit-form.js" not in viewer


def test_the_ledger_filters_fold_away_unless_in_use(cadre, rec):
    html = cadre.get("/visits/").content.decode()
    assert re.search(r'<form[^>]*class="[^"]*collapse d-md-flex"[^>]*id="visit-filters"', html)
    html = cadre.get("/visits/", {"hardship": "1"}).content.decode()
    assert re.search(r'<form[^>]*class="[^"]*collapse d-md-flex show"', html)


# -- from the visit to the archive ----------------------------------------------------------------

@pytest.fixture
def archive_cadre(rec):
    role = make_role("r_archive_visitor", [*VISITOR_PERMS, "archive.view", "archive.manage"])
    DibaoStandard.objects.create(org_unit=rec.union.bureau, region="测试市", year=today().year,
                                 monthly_amount=Decimal("800.00"))
    archive_flows_ensure(actor=None, org_unit=rec.union.bureau)
    return make_staff("archive_visitor", rec.union.team_a, [role], "班组工会干事")


def visit_of(rec, **overrides) -> Visit:
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                           data=visit_data(rec.member, **overrides))
    return visit


def test_a_visit_that_found_hardship_leads_on_to_enrolment(client, rec, archive_cadre):
    visit = visit_of(rec)
    html = verified_login(client, archive_cadre).get(f"/visits/{visit.pk}/").content.decode()
    assert 'id="archive-next"' in html
    assert f'href="/archive/enrol/{rec.member.pk}/"' in html
    assert f'href="/members/{rec.member.pk}/"' in html  # the member is one tap away


def test_no_enrolment_offer_without_hardship_or_archive_rights(client, rec, archive_cadre):
    visit = visit_of(rec, hardship_found=False)
    html = verified_login(client, archive_cadre).get(f"/visits/{visit.pk}/").content.decode()
    assert "/archive/enrol/" not in html
    visit = visit_of(rec)
    html = verified_login(client, rec.visitor_a).get(  # visits rights only
        f"/visits/{visit.pk}/").content.decode()
    assert 'id="archive-next"' not in html


def test_a_visit_links_the_households_open_record_instead(client, rec, archive_cadre):
    make_staff("workshop_officer", rec.union.workshop_a,
               [make_role("r_workshop", ["archive.view", "archive.manage"])], "车间工会干事")
    visit = visit_of(rec)
    record = record_enrol(actor=archive_cadre, member=rec.member, reason="入户走访发现困难")
    html = verified_login(client, archive_cadre).get(f"/visits/{visit.pk}/").content.decode()
    assert f'href="/archive/{record.pk}/"' in html
    assert "/archive/enrol/" not in html
    assert "建档审批中" in html


# -- a need becomes an application: fitting items first ------------------------------------------

def test_the_need_page_lists_the_items_the_worker_qualifies_for_first(cadre, rec, catalog):
    assistance_services.item_save(
        actor=None, category=catalog["living"].category,
        funding_source=catalog["living"].funding_source, code="kn-dqsh",
        name="深度困难职工生活补助", facts=[], amount_rule={"kind": "fixed", "amount": 1000},
        eligibility=[{"rule": "in_archive", "message": "仅限已建档的困难职工申请。"}],
        required_materials=[])
    need = visit_of(rec).needs.get()
    response = cadre.get(f"/visits/needs/{need.pk}/application/")
    html = response.content.decode()
    assert response.status_code == 200
    fitting, others = html.split('id="other-items"')
    assert "大病医疗救助" in fitting
    assert "单亲困难帮扶" in fitting
    assert "深度困难职工生活补助" not in fitting
    assert "深度困难职工生活补助" in others
    assert "仅限已建档的困难职工申请。" in others


def test_an_item_chosen_among_the_others_stays_chosen_on_a_refusal(cadre, rec, catalog):
    item = assistance_services.item_save(
        actor=None, category=catalog["living"].category,
        funding_source=catalog["living"].funding_source, code="kn-dqsh",
        name="深度困难职工生活补助", facts=[], amount_rule={"kind": "fixed", "amount": 1000},
        eligibility=[{"rule": "in_archive", "message": "仅限已建档的困难职工申请。"}],
        required_materials=[])
    need = visit_of(rec).needs.get()
    response = cadre.post(f"/visits/needs/{need.pk}/application/",
                          {"item": item.pk, "consent_method": "书面签字"})  # no consent tick
    html = response.content.decode()
    assert response.status_code == 400
    assert "须征得职工同意后才能代为申请。" in html
    assert 'id="form-errors"' in html  # said at the top too: the box is far down on a phone
    assert '<details id="other-items" open>' in html
    assert re.search(rf'value="{item.pk}" checked', html)
