# The fixtures come from helpers_records (no conftest of our own), hence F811 as parameters.
# ruff: noqa: F811
"""Configuration (archive.config): 低保 lines, category rules, working-day overrides — the
services with their rights and audit, and the pages (the calendar of the next 60 days)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from conftest import make_role, make_staff, verified_login
from unionaid.accounts.models import DataScope
from unionaid.approvals.models import WorkdayOverride
from unionaid.archive.category import dibao_standard_for, rules_for
from unionaid.archive.models import CategoryRules, DibaoStandard
from unionaid.archive.services import config as services
from unionaid.archive.tests.helpers_records import archive, at, clock  # noqa: F401 (fixtures)
from unionaid.audit.models import AuditEvent
from unionaid.core.errors import Conflict, PermissionDenied, ServiceError


@pytest.fixture
def station_admin(archive, union):
    """archive.config over 站段 A only."""
    role = make_role("station_config", ["org.view", "archive.view", "archive.config"],
                     DataScope.UNIT_AND_BELOW)
    return make_staff("station_admin", union.station_a, [role])


# -- 低保标准 ----------------------------------------------------------------------------------

def test_dibao_standard_is_saved_audited_and_used(archive, union):
    line = services.dibao_standard_save(actor=archive.config_admin, org_unit=union.station_a,
                                        year=2026, monthly_amount="950", region="甲市")
    assert dibao_standard_for(union.team_a, 2026) == line
    assert line.updated_by == archive.config_admin
    event = AuditEvent.objects.get(action="archive.dibao_save")
    assert event.changes["monthly_amount"] == "950.00"
    changed = services.dibao_standard_save(actor=archive.config_admin, org_unit=union.station_a,
                                           year=2026, monthly_amount="980", standard=line)
    assert changed.pk == line.pk
    assert changed.monthly_amount == Decimal("980.00")
    services.dibao_standard_delete(actor=archive.config_admin, standard=changed)
    assert dibao_standard_for(union.team_a, 2026).org_unit == union.bureau
    assert AuditEvent.objects.filter(action="archive.dibao_delete").count() == 1


def test_dibao_standard_validation_and_duplicates(archive, union):
    with pytest.raises(ServiceError) as exc:
        services.dibao_standard_save(actor=archive.config_admin, org_unit=union.station_a,
                                     year=2026, monthly_amount="0")
    assert "monthly_amount" in exc.value.fields
    with pytest.raises(Conflict) as exc:
        services.dibao_standard_save(actor=archive.config_admin, org_unit=union.bureau, year=2026,
                                     monthly_amount="900")
    assert exc.value.code == "duplicate_dibao_line"


def test_dibao_standard_only_in_the_admins_scope(archive, union, station_admin):
    services.dibao_standard_save(actor=station_admin, org_unit=union.workshop_a, year=2026,
                                 monthly_amount="900")
    with pytest.raises(PermissionDenied):
        services.dibao_standard_save(actor=station_admin, org_unit=union.station_b, year=2026,
                                     monthly_amount="900")
    with pytest.raises(PermissionDenied):
        services.dibao_standard_save(actor=archive.filer, org_unit=union.team_a, year=2026,
                                     monthly_amount="900")


# -- rules ----------------------------------------------------------------------------------

def test_rules_are_saved_per_unit_and_inherited(archive, union):
    rules = services.category_rules_save(actor=archive.config_admin, org_unit=union.station_a,
                                         relative_multiplier="2.5", follow_up_months=12)
    assert rules_for(union.team_a) == rules
    assert rules.relative_multiplier == Decimal("2.50")
    assert rules.deep_multiplier == Decimal("1.00")  # missing values take the defaults
    event = AuditEvent.objects.get(action="archive.rules_save")
    assert event.changes["before"] is None
    assert event.changes["after"]["follow_up_months"] == "12"
    services.category_rules_delete(actor=archive.config_admin, rules=rules)
    assert rules_for(union.team_a).pk is None


@pytest.mark.parametrize(("values", "field"), [
    ({"deep_multiplier": "2", "relative_multiplier": "1.5"}, "relative_multiplier"),
    ({"follow_up_months": 5}, "follow_up_months"),
    ({"sudden_ratio": "abc"}, "sudden_ratio"),
    ({"relative_multiplier": "3", "edge_multiplier": "2.5"}, "edge_multiplier"),
])
def test_invalid_rules_name_the_field(archive, union, values, field):
    with pytest.raises(ServiceError) as exc:
        services.category_rules_save(actor=archive.config_admin, org_unit=union.bureau, **values)
    assert field in exc.value.fields
    assert not CategoryRules.objects.exists()


# -- working days ----------------------------------------------------------------------------

def test_workday_override_needs_config_over_the_whole_tree(archive, station_admin):
    with pytest.raises(PermissionDenied):
        services.workday_override_save(actor=station_admin, day=dt.date(2026, 10, 12),
                                       is_workday=False)
    row = services.workday_override_save(actor=archive.config_admin, day=dt.date(2026, 10, 12),
                                         is_workday=False, note="地方假日")
    assert row.updated_by == archive.config_admin
    again = services.workday_override_save(actor=archive.config_admin,
                                           day=dt.date(2026, 10, 12), is_workday=True)
    assert again.pk == row.pk
    assert again.is_workday is True
    services.workday_override_delete(actor=archive.config_admin, override=again)
    assert not WorkdayOverride.objects.exists()
    assert [e.action for e in AuditEvent.objects.filter(action__startswith="archive.workday")
            .order_by("id")] == ["archive.workday_save", "archive.workday_save",
                                 "archive.workday_delete"]


# -- pages -----------------------------------------------------------------------------------

def test_config_pages_need_archive_config(client, archive):
    page = verified_login(client, archive.filer)
    for name in ("archive:config", "archive:calendar", "archive:dibao-create"):
        assert page.get(reverse(name)).status_code == 404


def test_config_home_lists_lines_and_flows(client, archive):
    response = verified_login(client, archive.config_admin).get(reverse("archive:config"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "测试铁路局工会" in body
    assert "困难职工建档审批" in body


def test_dibao_form_creates_a_line(client, archive, union):
    response = verified_login(client, archive.config_admin).post(
        reverse("archive:dibao-create"),
        {"org_unit": union.station_b.pk, "region": "乙市", "year": 2026,
         "monthly_amount": "870.50"})
    assert response.status_code == 302
    assert DibaoStandard.objects.get(org_unit=union.station_b).monthly_amount == Decimal("870.50")


def test_rules_form_saves_the_units_rules(client, archive, union):
    page = verified_login(client, archive.config_admin)
    url = reverse("archive:rules-edit") + f"?unit={union.workshop_a.pk}"
    form = page.get(url)
    assert "默认规则" in form.content.decode()
    data = {name: str(getattr(CategoryRules(), name)) for name in services.RULE_FIELDS}
    data["relative_multiplier"] = "2.20"
    assert page.post(url, data).status_code == 302
    assert rules_for(union.team_a).relative_multiplier == Decimal("2.20")
    data["follow_up_months"] = "2"
    refused = page.post(url, data)
    assert refused.status_code == 400
    assert "回访期须在 6 到 60 之间" in refused.content.decode()


def test_calendar_shows_national_day_and_the_notice_end(client, archive, clock):
    clock.move_to(at("2026-09-30", 10))
    page = verified_login(client, archive.config_admin)
    response = page.get(reverse("archive:calendar"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-day="2026-10-01" data-workday="0"' in body
    assert "国庆节" in body
    assert 'data-day="2026-10-10" data-workday="1"' in body
    assert "调休上班" in body
    assert "将于 2026-10-13 18:00 期满" in body
    saved = page.post(reverse("archive:calendar"),
                      {"day": "2026-10-12", "is_workday": "0", "note": "地方假日"})
    assert saved.status_code == 302
    body = page.get(reverse("archive:calendar")).content.decode()
    assert 'data-day="2026-10-12" data-workday="0"' in body
    assert "将于 2026-10-14 18:00 期满" in body


def test_calendar_is_read_only_for_a_station_admin(client, archive, station_admin):
    page = verified_login(client, station_admin)
    response = page.get(reverse("archive:calendar"))
    assert response.status_code == 200
    assert 'name="day"' not in response.content.decode()
    assert page.post(reverse("archive:calendar"),
                     {"day": "2026-10-12", "is_workday": "0"}).status_code == 404
    assert not WorkdayOverride.objects.exists()


def test_flows_button_creates_the_default_flows(client, archive, union):
    from unionaid.approvals.models import ApprovalFlow

    response = verified_login(client, archive.config_admin).post(
        reverse("archive:flows-ensure"), {"unit": union.station_b.pk})
    assert response.status_code == 302
    assert ApprovalFlow.objects.filter(org_unit=union.station_b).count() == 2


def test_archive_flows_command_creates_the_flows_once(union):
    import io

    from django.core.management import call_command

    from unionaid.approvals.models import ApprovalFlow

    out = io.StringIO()
    call_command("archive_flows", "--notice-days", "7", stdout=out)
    call_command("archive_flows", stdout=out)
    flows = ApprovalFlow.objects.filter(org_unit=union.bureau)
    assert flows.count() == 2
    notice = flows.first().versions.get().steps.get(is_public_notice=True)
    assert notice.notice_working_days == 7
    assert "新建流程 0 个" in out.getvalue()
