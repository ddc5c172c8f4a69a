"""Skip conditions in words (one formatter, labels from the registered subject) on the
timeline, the flow list and the flow editor — never the code (issue 10, item 13)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from conftest import make_role, make_staff
from unionaid.accounts.models import DataScope
from unionaid.approvals import registry
from unionaid.approvals import services as approvals
from unionaid.approvals.conditions import describe_condition
from unionaid.approvals.registry import FactLabel
from unionaid.approvals.tests.conftest import FakeSubject

LABELS = {
    "amount": FactLabel(label="金额", unit="元"),
    "category": FactLabel(label="困难类别", choices=(("deep", "深度困难"),
                                                   ("relative", "相对困难"))),
    "needs_review": FactLabel(label="需重点核查"),
    "dibao_line": FactLabel(label="低保标准", unit="元"),
    "income": FactLabel(label="人均收入", unit="元"),
}


@pytest.mark.parametrize(("code", "words"), [
    ("amount <= 2000", "金额不超过 2000 元"),
    ("amount > 500", "金额超过 500 元"),
    ("amount >= 500", "金额不低于 500 元"),
    ("amount < 500", "金额低于 500 元"),
    ("category == 'relative'", "困难类别为相对困难"),
    ("category != 'deep'", "困难类别不为深度困难"),
    ("category in ['deep', 'relative']", "困难类别为深度困难或相对困难"),
    ("not needs_review", "非需重点核查"),
    ("amount <= 2000 and fast_track", "金额不超过 2000 元，且特事特办"),
    ("amount <= 2000 or needs_review == True", "金额不超过 2000 元，或需重点核查为是"),
    ("income <= dibao_line * 1.5", "人均收入不超过低保标准 × 1.5"),
    ("size < 3", "size低于 3"),  # no label: the name as written
    ("amount <=", "amount <="),  # not valid code: as written
])
def test_a_condition_is_said_in_words(code, words):
    assert describe_condition(code, LABELS) == words


def test_a_subject_without_fact_labels_is_refused():
    class NoLabels(FakeSubject):
        fact_labels = None

    with pytest.raises(ImproperlyConfigured, match="fact_labels"):
        registry.register_subject(NoLabels(kind="test.no_labels"))
    assert not registry.has_subject("test.no_labels")


@pytest.mark.django_db
def test_every_registered_subject_gives_typed_labels():
    for subject in registry.subjects():
        labels = subject.fact_labels("")
        assert isinstance(labels, dict), subject.kind
        assert all(isinstance(v, FactLabel) for v in labels.values()), subject.kind


@pytest.mark.django_db
def test_the_archive_and_assistance_labels_name_every_fact_a_condition_may_use():
    assistance = registry.subject_for("assistance.application")
    assert assistance.fact_names("") <= set(assistance.fact_labels("")) | {"fast_track"}
    for kind in ("archive.enrolment", "archive.exit"):
        subject = registry.subject_for(kind)
        assert subject.fact_names("") <= set(subject.fact_labels(""))
    assert describe_condition("amount <= 2000", assistance.fact_labels("")) == \
        "金额不超过 2000 元"


@pytest.mark.django_db
def test_the_flow_list_and_editor_show_the_condition_in_words(client, union):
    admin = make_staff("flows", union.bureau,
                       [make_role("flows", ["org.view", "assistance.catalog"], DataScope.ALL)])
    approvals.flow_save(actor=None, subject_kind="assistance.application", subject_key="",
                        org_unit=union.bureau, name="帮扶审批", steps=[
                            {"name": "主席审批", "position_name": "主席", "unit_depth": 1,
                             "skip_condition": "amount <= 2000"}])
    client.force_login(admin)
    listing = client.get("/approvals/flows/").content.decode()
    assert "金额不超过 2000 元时跳过" in listing
    editor = client.get(f"/approvals/flows/edit/?unit={union.bureau.pk}&item=").content.decode()
    assert "即：金额不超过 2000 元时跳过" in editor
