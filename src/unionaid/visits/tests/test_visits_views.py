"""The visit pages through the HTTP client: the phone form (plain POST and the script's JSON
send), the ledger, a visit's detail, photos, and scope (out of scope = 404)."""
# ruff: noqa: F811  (pytest fixtures imported from helpers_records are used as arguments)

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from PIL import Image

from conftest import verified_login
from unionaid.assistance.tests.helpers import PDF_BYTES, jpeg_bytes, upload
from unionaid.audit.models import AuditEvent
from unionaid.members.models import ConsentKind
from unionaid.members.services import consent_grant, consent_withdraw
from unionaid.visits.models import HouseholdProfile, Visit, VisitPhoto
from unionaid.visits.services import visits as visit_services

from .helpers_records import new_uuid, private_media, rec, today, visit_data  # noqa: F401

NEW = "/visits/new/"


def form_post(member, key: str, **extra) -> dict:
    """What the visit form posts (the field names of visit_form.html)."""
    post = {
        "client_uuid": key, "kind": "home", "member_id": str(member.pk),
        "visited_on": today().isoformat(), "visitors": "张干事", "place": "家中",
        "summary": "", "satisfaction": "4", "hardship_found": "1",
        "household-0-name": "王建国", "household-0-relation": "self", "household-0-age": "45",
        "household-0-health": "healthy", "household-0-schooling": "",
        "household-1-name": "李秀英", "household-1-relation": "spouse", "household-1-age": "43",
        "household-1-health": "major_illness", "household-1-schooling": "",
        "household-2-name": "", "household-2-relation": "", "household-2-age": "",
        "household-2-health": "healthy", "household-2-schooling": "",
        "incomes-0-source": "wage", "incomes-0-monthly": "4200", "incomes-0-note": "",
        "incomes-1-source": "", "incomes-1-monthly": "", "incomes-1-note": "",
        "causes": ["illness"], "housing_kind": "rent", "housing_homes": "0", "housing_area": "45",
        "health_major_illness": "1", "health_note": "透析",
        "expenses_medical_annual": "36000", "expenses_schooling_annual": "",
        "expenses_other_rigid_annual": "", "sudden_loss_kind": "", "sudden_loss_amount": "",
        "consent_health": "1", "consent_method": "书面签字",
        "needs-0-kind": "money", "needs-0-note": "透析费用",
        "follow_ups-0-title": "", "follow_ups-0-due_on": "",
    }
    post.update(extra)
    return post


@pytest.fixture
def cadre(client, rec):
    return verified_login(client, rec.visitor_a)


# -- the form ---------------------------------------------------------------------------------

def test_the_form_opens_with_a_draft_number_and_the_member_prefilled(cadre, rec):
    response = cadre.get(f"{NEW}?member={rec.member.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    key = re.search(r'name="client_uuid" value="([0-9a-f-]{36})"', html).group(1)
    assert key
    assert f'value="{rec.member.name}"' in html  # the member as 本人, first household row
    assert 'capture="environment"' in html
    assert 'accept="image/*"' in html
    assert "本机未提交的走访" in html
    assert "js/visit-form.js" in html
    assert "<script>" not in html  # CSP: no inline script
    assert 'style="' not in html


def test_device_drafts_are_kept_per_user_and_the_page_says_so(client, rec):
    """The drafts panel names whose drafts the page may list and send (the user id, nothing
    personal); js/visit-form.js keeps drafts per owner (visit_drafts.test.js checks it, run
    with node)."""
    pages = (NEW, f"{NEW}?member={rec.member.pk}", "/visits/")
    for user in (rec.visitor_a, rec.team_visitor):
        verified_login(client, user)
        for url in pages:
            html = client.get(url).content.decode()
            assert f'data-owner="{user.pk}"' in html
            assert "按登录账号分开加密" in html
        client.logout()
    html = verified_login(client, rec.visitor_a).get(pages[1]).content.decode()
    assert "会随草稿加密保存在本机" in html  # the health note warns where it is kept
    script = Path(finders.find("js/visit-form.js")).read_text(encoding="utf-8")
    assert "vault.putDraft(OWNER, draft)" in script


def test_the_form_starts_from_the_latest_profile(cadre, rec):
    visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                data=visit_data(rec.member))
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert 'value="李秀英"' in html
    assert 'value="36000.00"' in html


def test_the_prefill_drops_health_data_after_consent_is_withdrawn(cadre, rec):
    visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                data=visit_data(rec.member))
    consent_withdraw(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert "每周透析" not in html
    assert 'value="36000.00"' not in html


def test_the_chooser_searches_by_post_so_id_numbers_stay_out_of_urls(cadre, rec):
    html = cadre.get(NEW).content.decode()
    search = re.search(r'<form[^>]*role="search"[^>]*>', html).group(0)
    assert 'method="post"' in search
    assert 'name="chooser" value="1"' in html
    by_name = cadre.post(NEW, {"chooser": "1", "q": rec.member.name[:1]}).content.decode()
    assert f"?member={rec.member.pk}" in by_name
    by_id = cadre.post(NEW, {"chooser": "1", "q": rec.member.id_number}).content.decode()
    assert f"?member={rec.member.pk}" in by_id
    assert rec.member.id_number not in by_id  # not even echoed back in the search box
    # a query in the URL (an old link, a bookmark) is not searched
    assert f"?member={rec.member.pk}" not in cadre.get(
        f"{NEW}?q={rec.member.name[:1]}").content.decode()
    assert not Visit.objects.exists()


def test_the_chooser_finds_only_members_in_the_record_scope(client, rec):
    verified_login(client, rec.visitor_b)
    html = client.post(NEW, {"chooser": "1", "q": rec.member.name}).content.decode()
    assert f"?member={rec.member.pk}" not in html
    assert "没有找到该职工" in html


def test_a_plain_form_post_twice_creates_one_visit(cadre, rec):
    key = new_uuid()
    first = cadre.post(NEW, form_post(rec.member, key))
    visit = Visit.objects.get()
    assert first.status_code == 302
    assert first["Location"] == f"/visits/{visit.pk}/"
    second = cadre.post(NEW, form_post(rec.member, key), follow=True)
    assert Visit.objects.count() == 1
    assert "此前已提交成功" in second.content.decode()
    profile = HouseholdProfile.objects.get()
    assert profile.household_size == 2  # the blank third row is dropped
    assert profile.causes == "illness"
    assert visit.needs.get().note == "透析费用"


def test_the_scripts_send_gets_json_201_then_200(cadre, rec):
    key = new_uuid()
    headers = {"X-Visit-Draft": "1"}
    first = cadre.post(NEW, form_post(rec.member, key), headers=headers)
    second = cadre.post(NEW, form_post(rec.member, key), headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"] == Visit.objects.get().pk
    assert first.json()["created"] is True
    assert second.json()["created"] is False
    assert second.json()["url"] == f"/visits/{first.json()['id']}/"


def test_refused_input_is_shown_on_the_form_and_nothing_is_written(cadre, rec):
    post = form_post(rec.member, new_uuid(), consent_health="", **{"household-0-age": "200"})
    response = cadre.post(NEW, post)
    assert response.status_code == 400
    html = response.content.decode()
    assert "年龄须在 0 到 120 之间" in html
    assert 'value="李秀英"' in html  # what was typed stays
    assert not Visit.objects.exists()
    assert not HouseholdProfile.objects.exists()
    json_response = cadre.post(NEW, form_post(rec.member, new_uuid(), consent_health=""),
                               headers={"X-Visit-Draft": "1"})
    assert json_response.status_code == 422
    body = json_response.json()
    assert body["code"] == "validation_error"
    assert "consent_health" in body["fields"]  # the form input's own name
    assert not Visit.objects.exists()


def test_a_cadre_without_record_rights_gets_404(client, rec):
    verified_login(client, rec.viewer_a)
    assert client.get(f"{NEW}?member={rec.member.pk}").status_code == 404
    assert client.post(NEW, form_post(rec.member, new_uuid())).status_code == 404
    assert not Visit.objects.exists()


def test_a_member_out_of_scope_is_404(client, rec):
    verified_login(client, rec.visitor_b)
    assert client.get(f"{NEW}?member={rec.member.pk}").status_code == 404
    response = client.post(NEW, form_post(rec.member, new_uuid()), headers={"X-Visit-Draft": "1"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Visit.objects.exists()


def test_an_out_of_scope_form_post_is_404_and_the_attempt_is_journaled(client, rec):
    verified_login(client, rec.visitor_b)
    assert client.post(NEW, form_post(rec.member, new_uuid())).status_code == 404
    scripted = client.post(NEW, form_post(rec.member, new_uuid()),
                           headers={"X-Visit-Draft": "1"})
    assert scripted.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", target_type="members.member",
                                     target_id=str(rec.member.pk)).count() == 2
    assert not Visit.objects.exists()


# -- the ledger and a visit -------------------------------------------------------------------

@pytest.fixture
def visit(rec):
    visit, _ = visit_services.visit_submit(actor=rec.visitor_a, client_uuid=new_uuid(),
                                           data=visit_data(rec.member))
    return visit


def test_the_list_shows_visits_in_scope_only(client, rec, visit):
    verified_login(client, rec.visitor_a)
    html = client.get("/visits/").content.decode()
    assert rec.member.name in html
    assert "/visits/campaigns/" in html  # campaigns are one tap away
    assert rec.member.name not in client.get("/visits/?hardship=0").content.decode()
    client.logout()
    verified_login(client, rec.visitor_b)
    html = client.get("/visits/").content.decode()
    assert rec.member.name not in html
    assert client.get(f"/visits/?member={rec.member.pk}").status_code == 404


def test_the_detail_shows_the_profile_and_hides_the_health_note(cadre, rec, visit):
    response = cadre.get(f"/visits/{visit.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "166.67" in html  # per-capita monthly income
    assert "李**" in html  # household names masked
    assert "大病" in html
    assert "每周透析" not in html  # the note only through the journaled reveal
    assert "转帮扶申请" in html
    assert "转跟进事项" in html


def test_the_detail_hides_health_details_without_consent(cadre, rec, visit):
    consent_withdraw(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    html = cadre.get(f"/visits/{visit.pk}/").content.decode()
    assert "未取得（或已撤回）健康信息同意" in html
    assert "36,000.00" not in html
    assert "profile-health-reveal" not in html


def test_revealing_the_health_note_is_journaled_and_needs_consent(cadre, rec, visit):
    profile = visit.profile
    url = f"/visits/profiles/{profile.pk}/health/"
    response = cadre.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "配偶尿毒症" in response.content.decode()
    assert AuditEvent.objects.filter(action="profile.health_reveal", outcome="ok").count() == 1
    consent_withdraw(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    response = cadre.post(url, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert "配偶尿毒症" not in response.content.decode()
    assert AuditEvent.objects.filter(action="profile.health_reveal",
                                     outcome="denied").count() == 1


def test_a_visit_out_of_scope_is_404_and_journaled(client, rec, visit):
    verified_login(client, rec.visitor_b)
    assert client.get(f"/visits/{visit.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied", target_id=str(visit.pk)).exists()


# -- photos -----------------------------------------------------------------------------------

def test_photos_are_type_checked_and_served_only_in_scope(client, cadre, rec, visit,
                                                          private_media):
    url = f"/visits/{visit.pk}/photos/"
    response = cadre.post(url, {"photo": upload("诊断.pdf", PDF_BYTES)}, follow=True)
    assert "只能是 JPG 或 PNG" in response.content.decode()
    renamed = cadre.post(url, {"photo": upload("伪装.jpg", PDF_BYTES)}, follow=True)
    assert "改扩展名无效" in renamed.content.decode()
    assert not VisitPhoto.objects.exists()
    cadre.post(url, {"photo": upload("家中.jpg", jpeg_bytes(size=(800, 600), gps=True))})
    photo = VisitPhoto.objects.get()
    response = cadre.get(f"/visits/photos/{photo.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert "no-store" in response["Cache-Control"]
    image = Image.open(io.BytesIO(b"".join(response.streaming_content)))
    assert image.size == (800, 600)
    assert not image.getexif()  # EXIF (GPS) stripped
    thumb = cadre.get(f"/visits/photos/{photo.pk}/?thumb=1")
    assert max(Image.open(io.BytesIO(b"".join(thumb.streaming_content))).size) <= 320
    assert AuditEvent.objects.filter(action="visit.photo_view").count() == 2
    client.logout()
    verified_login(client, rec.visitor_b)
    assert client.get(f"/visits/photos/{photo.pk}/").status_code == 404
    assert client.post(url, {"photo": upload("x.jpg", jpeg_bytes())}).status_code == 404


def test_photos_sent_with_the_form_are_kept(cadre, rec, private_media):
    post = form_post(rec.member, new_uuid(), photos=[upload("a.jpg", jpeg_bytes()),
                                                     upload("b.jpg", jpeg_bytes())])
    response = cadre.post(NEW, post)
    assert response.status_code == 302
    assert VisitPhoto.objects.count() == 2


def test_the_consent_checkbox_already_given_is_not_asked_again(cadre, rec):
    consent_grant(actor=rec.visitor_a, member=rec.member, kind=ConsentKind.HEALTH)
    html = cadre.get(f"{NEW}?member={rec.member.pk}").content.decode()
    assert 'name="consent_health"' not in html
    assert 'name="consent_children"' in html


def test_a_workplace_visit_through_the_form(cadre, rec):
    page = cadre.get(f"{NEW}?kind=workplace").content.decode()
    assert 'name="visited_unit_id"' in page
    assert rec.union.team_a.name in page
    assert rec.union.team_b.name not in page  # only units in the cadre's scope
    post = {"client_uuid": new_uuid(), "kind": "workplace",
            "visited_unit_id": str(rec.union.workshop_a.pk), "visited_on": today().isoformat(),
            "visitors": "张干事", "needs-0-kind": "training", "needs-0-note": "技能培训"}
    response = cadre.post(NEW, post)
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert (visit.kind, visit.visited_unit, visit.member) == ("workplace",
                                                              rec.union.workshop_a, None)
    assert not HouseholdProfile.objects.exists()


def test_a_pairing_link_opens_the_form_for_its_household(cadre, rec):
    from unionaid.visits.models import Pairing, PairingKind, VisitCampaign

    campaign = VisitCampaign.objects.create(name="春季大走访", org_unit=rec.union.station_a,
                                            starts_on=today(), ends_on=today())
    pairing = Pairing.objects.create(campaign=campaign, cadre=rec.visitor_a,
                                     kind=PairingKind.HOUSEHOLD, member=rec.member,
                                     org_unit=rec.member.org_unit)
    html = cadre.get(f"{NEW}?pairing={pairing.pk}").content.decode()
    assert f'name="pairing_id" value="{pairing.pk}"' in html
    assert f'name="campaign_id" value="{campaign.pk}"' in html
    assert f'name="member_id" value="{rec.member.pk}"' in html
    response = cadre.post(NEW, form_post(rec.member, new_uuid(), pairing_id=str(pairing.pk),
                                         campaign_id=str(campaign.pk)))
    assert response.status_code == 302
    assert Visit.objects.get().pairing == pairing


def test_a_pairing_or_campaign_out_of_scope_is_404_and_journaled(client, rec):
    from unionaid.visits.models import Pairing, PairingKind, VisitCampaign

    campaign = VisitCampaign.objects.create(name="春季大走访", org_unit=rec.union.station_a,
                                            starts_on=today(), ends_on=today())
    pairing = Pairing.objects.create(campaign=campaign, cadre=rec.visitor_a,
                                     kind=PairingKind.HOUSEHOLD, member=rec.member,
                                     org_unit=rec.member.org_unit)
    other = verified_login(client, rec.visitor_b)
    assert other.get(f"{NEW}?pairing={pairing.pk}").status_code == 404
    assert other.get(f"{NEW}?pairing=x1").status_code == 404
    assert other.get(f"{NEW}?member={rec.member_b.pk}&campaign={campaign.pk}").status_code == 404
    denied = set(AuditEvent.objects.filter(action="access.denied")
                 .values_list("target_type", "target_id"))
    assert denied == {("visits.pairing", str(pairing.pk)),
                      ("visits.visitcampaign", str(campaign.pk))}
    assert not Visit.objects.exists()
