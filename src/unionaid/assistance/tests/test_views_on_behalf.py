"""代办 (filing on a worker's behalf) made quicker (issue 10, item 14): a 代办申请 button on the
member page, the items the member qualifies for first with the reasons for the others, no 申请周期
on a one-off item, the material choice moving on after each upload, and a camera input."""

from __future__ import annotations

import re

import pytest

from conftest import make_role, make_staff
from unionaid.assistance import services
from unionaid.assistance.models import Application

from .helpers import PDF_BYTES, jpeg_bytes, upload

NEW = "/assistance/applications/new/"


def detail(application) -> str:
    return f"/assistance/applications/{application.pk}/"


@pytest.fixture
def items(make_item):
    """大病医疗救助 (active members), 子女助学 (a child in the household), 意外致困 (one-off)."""
    return {
        "illness": make_item(),
        "school": make_item(code="zx-zn", name="子女助学救助", category="zhuxue",
                            facts=[], amount_rule={"kind": "fixed", "amount": 1000},
                            eligibility=[{"rule": "children_count >= 1",
                                          "message": "须有在读子女（请先登记家庭成员）。"}],
                            required_materials=[]),
        "sudden": make_item(code="zk-yw", name="意外致困救助", category="zhukun", facts=[],
                            amount_rule={"kind": "fixed", "amount": 800}, period_kind="case",
                            eligibility=[], required_materials=[]),
    }


def test_the_member_page_has_a_button_to_file_on_the_members_behalf(
        client, union, staff, make_member, personas):
    member = make_member(union.team_a)
    client.force_login(staff.apply_cadre)

    html = client.get(f"/members/{member.pk}/").content.decode()

    assert 'id="member-apply"' in html
    assert f'href="{NEW}?member={member.pk}"' in html
    assert "代办申请" in html


def test_no_button_for_a_viewer_who_may_not_file_for_the_member(
        client, union, staff, make_member):
    member = make_member(union.team_a)
    viewer = make_staff("viewer", union.station_a, [make_role(
        "viewer", ["org.view", "members.view", "assistance.view"])])
    client.force_login(viewer)

    response = client.get(f"/members/{member.pk}/")

    assert response.status_code == 200
    assert "本年度帮扶" in response.content.decode()  # the assistance part is there
    assert 'id="member-apply"' not in response.content.decode()


def test_items_the_member_qualifies_for_come_first_and_the_others_say_why(
        client, union, staff, make_member, items):
    member = make_member(union.team_a)  # an active member with no registered child
    client.force_login(staff.apply_cadre)

    html = client.get(NEW, {"member": member.pk}).content.decode()

    fitting = html.split('id="fitting-items"', 1)[1].split("</div>\n", 1)[0]
    others = html.split('id="other-items"', 1)[1].split("</details>", 1)[0]
    assert "大病医疗救助" in fitting
    assert "意外致困救助" in fitting
    assert "子女助学救助" not in fitting
    assert "子女助学救助" in others
    assert "须有在读子女（请先登记家庭成员）。" in others
    assert f"item={items['school'].pk}" in others  # still selectable: a draft may be made
    assert html.index('id="fitting-items"') < html.index('id="other-items"')


def test_a_one_off_item_asks_no_period_and_a_yearly_one_asks_the_year(
        client, union, staff, make_member, items):
    member = make_member(union.team_a)
    client.force_login(staff.apply_cadre)

    one_off = client.get(NEW, {"member": member.pk, "item": items["sudden"].pk}).content.decode()
    yearly = client.get(NEW, {"member": member.pk, "item": items["illness"].pk}).content.decode()

    assert 'name="period"' not in one_off
    assert "申请周期" not in one_off
    assert 'name="period"' in yearly
    assert "申请年度" in yearly

    saved = client.post(f"{NEW}?member={member.pk}&item={items['sudden'].pk}",
                        {"reason": "家中失火"})
    application = Application.objects.get(member=member)
    assert saved["Location"] == detail(application)
    page = client.get(detail(application)).content.decode()
    assert "申请周期" not in page
    assert "申请年度" not in page


def test_the_upload_offers_the_camera_and_moves_on_to_the_next_missing_material(
        client, union, staff, make_member, make_item):
    item = make_item(code="yl-x", name="住院救助",
                     required_materials=["诊断证明", "费用清单", {"name": "身份证",
                                                                  "required": False}])
    member = make_member(union.team_a)
    application = services.application_create_draft(
        actor=staff.apply_cadre, member=member, item=item, facts={"self_paid": "12000"})
    client.force_login(staff.apply_cadre)

    page = client.get(detail(application)).content.decode()
    camera = re.search(r'<input[^>]*name="camera"[^>]*>', page).group(0)
    chooser = re.search(r'<input[^>]*name="file"[^>]*>', page).group(0)
    assert 'accept="image/*,application/pdf"' in camera
    assert 'capture="environment"' in camera
    assert 'accept="image/*,application/pdf"' in chooser
    assert "capture" not in chooser  # the gallery and the computer's files stay reachable
    assert selected(page) == "诊断证明"

    sent = client.post(f"{detail(application)}attachments/",
                       {"material": "诊断证明", "camera": upload("p.jpg", jpeg_bytes())})
    assert sent.status_code == 302
    assert selected(client.get(sent["Location"]).content.decode()) == "费用清单"

    sent = client.post(f"{detail(application)}attachments/",
                       {"material": "费用清单", "file": upload("bill.pdf", PDF_BYTES)})
    assert selected(client.get(sent["Location"]).content.decode()) == "身份证"

    sent = client.post(f"{detail(application)}attachments/",
                       {"material": "身份证", "file": upload("id.jpg", jpeg_bytes())})
    sent = client.post(f"{detail(application)}attachments/",
                       {"material": "身份证", "file": upload("id2.jpg", jpeg_bytes())})
    assert selected(client.get(sent["Location"]).content.decode()) == "身份证"  # kept
    assert application.attachments.count() == 4


def test_an_upload_without_a_file_is_refused_in_chinese(client, union, staff, make_member,
                                                         illness):
    application = services.application_create_draft(
        actor=staff.apply_cadre, member=make_member(union.team_a), item=illness,
        facts={"self_paid": "12000"})
    client.force_login(staff.apply_cadre)

    response = client.post(f"{detail(application)}attachments/", {"material": "身份证"})

    assert response.status_code == 400
    assert "请先拍照或选择要上传的文件。" in response.content.decode()
    assert selected(response.content.decode()) == "身份证"  # the choice is kept
    assert not application.attachments.exists()


def selected(html: str) -> str:
    select = re.search(r'<select[^>]*name="material".*?</select>', html, re.S).group(0)
    return re.search(r'<option value="([^"]*)"[^>]*selected', select).group(1)


def test_the_worker_search_posts_and_refuses_an_id_number_or_phone_in_its_address(
        client, union, staff, make_member):
    """The 代办 page's worker search posts, like every other member search, so an ID number or
    phone stays out of URLs and access logs; one in the address is refused and nobody is looked
    up by it (issue 10, item 4)."""
    member = make_member(union.team_a)
    client.force_login(staff.apply_cadre)

    for value in (member.id_number, member.phone):
        response = client.get(NEW, {"q": value})
        html = response.content.decode()
        assert response.status_code == 400
        assert "这里不能按身份证号或手机号查找" in html
        assert f"?member={member.pk}" not in html
        assert value not in html

    # the form itself posts, and finds the worker by name, ID number or phone
    assert 'method="post"' in client.get(NEW).content.decode()
    for value in (member.name, member.id_number, member.phone):
        html = client.post(NEW, {"q": value}).content.decode()
        assert f"?member={member.pk}" in html, value
    assert member.id_number not in client.post(NEW, {"q": member.id_number}).content.decode()
