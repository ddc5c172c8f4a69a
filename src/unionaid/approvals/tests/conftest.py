"""Set-up for approval-engine tests: a throwaway subject kind and a few posts.

    bureau:     帮扶干事 (bureau_officer), 主席 (chairman)
    station_a:  帮扶干事 (station_officer)
    station_b:  帮扶干事 (station_b_officer)

The standard flow: 1 站段审核 (站段 帮扶干事) → 2 路局复核 (路局 帮扶干事, skipped when
amount <= 2000) → 3 主席审批 (路局 主席).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from conftest import PASSWORD, make_role
from unionaid.accounts import services as account_services
from unionaid.accounts.models import Position, User
from unionaid.approvals import registry
from unionaid.approvals import services as approvals
from unionaid.approvals.registry import FactLabel, PreviewCase

KIND = "test.subject"

STANDARD_STEPS = [
    {"name": "站段审核", "position_name": "帮扶干事", "unit_depth": 2},
    {"name": "路局复核", "position_name": "帮扶干事", "unit_depth": 1,
     "skip_condition": "amount <= 2000"},
    {"name": "主席审批", "position_name": "主席", "unit_depth": 1},
]


@dataclass
class FakeSubject:
    """Records every call the engine makes, so tests can assert them."""

    kind: str = KIND
    calls: list = field(default_factory=list)
    fail_on: str = ""
    title: str = "测试事项"
    view_permission: str = "assistance.view"
    flow_permission: str = "assistance.catalog"
    flow_editor: None = None  # not kept in the flow editor
    link_text: str = "查看"
    keys: dict = field(default_factory=dict)  # subject id → the key its case started with

    def subject_keys(self):
        return None

    def key_labels(self):
        return {"ITEM-1": "临时救助", "BATCH": "批量事项", "NAMED": "点名事项"}

    def fact_names(self, subject_key):
        return None

    def fact_labels(self, subject_key):
        return {"amount": FactLabel(label="金额", unit="元")}

    def preview_case(self, *, subject_key, facts):
        return PreviewCase(subject_key=subject_key, facts=facts, shown=facts)

    def label(self, subject_id):
        return f"测试事项#{subject_id}"

    def labels(self, subject_ids):
        return {pk: self.label(pk) for pk in subject_ids}

    def subject_ids_for_keys(self, keys):
        keys = set(keys)
        return [pk for pk, key in self.keys.items() if key in keys]

    def link(self, subject_id):
        return ""

    def fact_rows(self, case):
        return list((case.facts or {}).items())

    def task_panel(self, *, user, case):
        return None

    def notification_text(self, *, case, task):
        return f"新的待办：{self.label(case.subject_id)}", f"请办理审批节点“{task.step.name}”。"

    def before_approve(self, *, case, task):
        pass

    def _record(self, name, case, **extra):
        self.calls.append((name, case.pk, *extra.values()))
        if self.fail_on == name:
            raise RuntimeError("handler failed")

    def on_step_started(self, *, case, task):
        self._record("started", case, order=task.order)

    def on_approved(self, *, case, actor):
        self._record("approved", case)

    def on_rejected(self, *, case, actor):
        self._record("rejected", case)

    def on_returned(self, *, case, actor):
        self._record("returned", case)

    def names(self):
        return [c[0] for c in self.calls]


@pytest.fixture
def subject():
    handler = FakeSubject()
    registry.register_subject(handler)
    yield handler
    registry.unregister_subject(KIND)


def new_user(username):
    return account_services.user_create(actor=None, username=username, password=PASSWORD)


def hold(user, position):
    return account_services.assignment_grant(actor=None, user=user, position=position)


@dataclass
class Chain:
    union: object
    subject: FakeSubject
    approver_role: object
    station_post: Position
    bureau_post: Position
    chairman_post: Position
    station_b_post: Position
    station_officer: User
    bureau_officer: User
    chairman: User
    station_b_officer: User
    filer: User
    applicant: object
    seq: list = field(default_factory=lambda: [0])

    def start(self, facts=None, *, unit=None, applicant=None, key="ITEM-1", **kw):
        self.seq[0] += 1
        self.subject.keys[self.seq[0]] = key
        return approvals.case_start(
            actor=kw.pop("actor", self.filer), subject_kind=KIND, subject_id=self.seq[0],
            subject_key=key, org_unit=unit or self.union.team_a,
            applicant=applicant or self.applicant,
            facts={"amount": 3000} if facts is None else facts, **kw,
        )


@pytest.fixture
def chain(union, personas, make_member, subject) -> Chain:
    role = make_role("approver", ["assistance.view", "org.view"])

    def post(unit, name):
        return account_services.position_create(actor=None, org_unit=unit, name=name,
                                                 roles=[role])

    station_post = post(union.station_a, "帮扶干事")
    bureau_post = post(union.bureau, "帮扶干事")
    chairman_post = post(union.bureau, "主席")
    station_b_post = post(union.station_b, "帮扶干事")
    people = {}
    for username, position in [("station_officer", station_post),
                               ("bureau_officer", bureau_post),
                               ("chairman", chairman_post),
                               ("station_b_officer", station_b_post)]:
        people[username] = new_user(username)
        hold(people[username], position)
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="", org_unit=union.bureau,
                        name="标准流程", steps=STANDARD_STEPS)
    return Chain(
        union=union, subject=subject, approver_role=role, station_post=station_post,
        bureau_post=bureau_post, chairman_post=chairman_post, station_b_post=station_b_post,
        filer=personas.team_cadre, applicant=make_member(union.team_a), **people,
    )


@pytest.fixture
def deputy(chain):
    """Another approver of 甲车务段: 副主席, a post a (second) flow names at the 站段 level."""
    post = account_services.position_create(actor=None, org_unit=chain.union.station_a,
                                            name="副主席", roles=[chain.approver_role])
    approvals.flow_save(actor=None, subject_kind=KIND, subject_key="DEPUTY",
                        org_unit=chain.union.bureau, name="副主席流程",
                        steps=[{"name": "站段副主席审核", "position_name": "副主席",
                                "unit_depth": 2}])
    user = new_user("deputy")
    hold(user, post)
    return user
