"""Pieces the demo applications are made of: plausible facts per catalog item, a generated photo
of a document, and the people who file and decide (``Cast``), acting only through the services.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from dataclasses import dataclass, field
from functools import cache

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from unionaid.accounts.models import Assignment, User
from unionaid.approvals import services as approval_services
from unionaid.approvals.models import ApprovalTask, TaskStatus
from unionaid.assistance import services as assistance_services
from unionaid.assistance.models import Application, AssistanceItem
from unionaid.org.models import OrgUnit

SMALL_LIMIT = 2000  # the 路局 step is skipped at or below this amount (chain.SKIP_SMALL)

# -- facts ------------------------------------------------------------------------------------
# want: "big" (amount above SMALL_LIMIT), "small" (at or below) or None (any). A generator
# returns None when the item cannot give such an amount.


def _table(rng: random.Random, want, rows: dict[str, int]) -> str | None:
    options = [k for k, v in rows.items()
               if want is None or (v > SMALL_LIMIT) == (want == "big")]
    return rng.choice(options) if options else None


def _recent_day(rng: random.Random, low: int = 5, high: int = 90) -> str:
    return (timezone.localdate() - dt.timedelta(days=rng.randint(low, high))).isoformat()


def _money(rng: random.Random, low: int, high: int) -> str:
    return f"{rng.randrange(low, high, 10)}.00"


def _lsjz(rng, want):
    cause = _table(rng, want, {"家庭成员突发重病": 3000, "遭遇自然灾害": 5000,
                               "家庭主要劳动力死亡": 5000, "其他突发困难": 2000})
    return {"cause": cause} if cause else None


def _ywsh(rng, want):
    degree = _table(rng, want, {"轻伤": 1000, "重伤": 3000, "致残": 5000})
    return {"degree": degree, "happened_on": _recent_day(rng)} if degree else None


def _swn(rng, want):
    target = _table(rng, want, {"困难职工": 1000, "困难劳模": 1500, "一线困难职工": 800})
    return {"target": target} if target else None


DISEASES = ["恶性肿瘤", "尿毒症", "器官移植", "白血病", "心脑血管疾病", "其他重大疾病"]


def _dbjz(rng, want):
    # 50 % of the self-paid cost above 2,000, at most 8,000: above 2,000 yuan from 6,000 on.
    low, high = {"big": (6600, 22000), "small": (2600, 6000)}.get(want, (2600, 22000))
    return {"self_paid": _money(rng, low, high), "disease": rng.choice(DISEASES)}


def _zybz(rng, want):
    low, high = {"big": (21, 40), "small": (3, 20)}.get(want, (3, 40))
    return {"days": rng.randint(low, high), "admitted_on": _recent_day(rng)}


def _zdjb(rng, want):
    disease = _table(rng, want, {"恶性肿瘤": 5000, "尿毒症": 5000, "白血病": 5000,
                                 "其他重大疾病": 3000})
    return {"disease": disease} if disease else None


def _mxb(rng, want):
    return None if want == "big" else {"self_paid": _money(rng, 2000, 7600)}


def _gsww(rng, want):
    return None if want == "big" else {}


def _jnts(rng, want):
    return None if want == "big" else {"days": rng.randint(5, 30)}


def _xlts(rng, want):
    low, high = {"big": (4400, 9000), "small": (1200, 4000)}.get(want, (1200, 9000))
    return {"tuition": _money(rng, low, high)}


def _jqzx(rng, want):
    case = _table(rng, want, {"本科新生": 5000, "专科新生": 4000, "本科在读": 3000,
                              "专科在读": 2000})
    return {"case": case, "per_capita_income": _money(rng, 900, 2400)} if case else None


FACTS = {
    "kn-lsjz": _lsjz, "kn-ywsh": _ywsh, "kn-swn": _swn, "yl-dbjz": _dbjz, "yl-zybz": _zybz,
    "yl-zdjb": _zdjb, "yl-mxb": _mxb, "yl-gsww": _gsww, "xx-jnts": _jnts, "xx-xlts": _xlts,
    "xx-jqzx": _jqzx,
}
NEEDS_CHILD = {"xx-jqzx"}
NEEDS_SENIORITY = {"xx-xlts"}  # membership_years >= 1

REASONS = {
    "zhukun": ["家中突发变故，生活暂时困难，申请救助。", "家庭收入低，负担较重，恳请组织帮扶。",
               "意外受伤休养期间收入减少，申请帮扶。"],
    "zhuyi": ["本人住院治疗，自付医疗费用较高，申请救助。", "长期治疗费用负担重，申请医疗救助。",
              "家庭成员患病，医疗开支大，申请帮扶。"],
    "zhuxue": ["子女今年考入大学，学费负担较重，申请助学。", "参加学历提升学习，申请学费补助。",
               "参加技能培训，申请培训补贴。"],
}
APPROVE_COMMENTS = ["", "", "情况属实，同意。", "经核实，符合条件，同意。", "同意，按标准救助。"]
RETURN_COMMENTS = ["医疗费用票据不清晰，请重新拍照上传。", "缺少医院盖章的诊断证明，请补充。",
                   "家庭收入情况说明未签字，请补充后重新提交。"]
REJECT_COMMENTS = ["经核实，家庭月人均收入高于本项目标准，不予救助。",
                   "本年度已通过其他渠道获得同类救助，不重复救助。",
                   "经走访核实，申请情况与实际不符。"]

# -- a photographed document --------------------------------------------------------------------

PAPER = [(250, 248, 240), (244, 246, 250), (250, 244, 236), (240, 248, 244)]


@cache
def document_png(variant: int) -> bytes:
    """A small PNG that looks like a photographed form (lines of text, a red stamp)."""
    image = Image.new("RGB", (120, 160), PAPER[variant % len(PAPER)])
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 110, 22), fill=(90, 90, 110))
    for row in range(32, 140, 10):
        draw.line((12, row, 108 - (row * 7 + variant * 13) % 40, row), fill=(120, 120, 130))
    draw.ellipse((70, 112, 104, 146), outline=(200, 40, 40), width=3)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(material: str, variant: int) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{material}.png", document_png(variant), content_type="image/png")


def material_names(item: AssistanceItem, *, required_only: bool = True) -> list[str]:
    names = []
    for m in item.required_materials or []:
        entry = m if isinstance(m, dict) else {"name": m, "required": True}
        if entry.get("required", True) or not required_only:
            names.append(entry["name"])
    return names


# -- who files and who decides ------------------------------------------------------------------

@dataclass
class Cast:
    """The demo's actors. ``filers`` maps a 站段 path to its 代办员; ``team_filer`` files for the
    team_cadre persona's own team; ``deciders`` maps a post (position id) to its holder;
    ``finance`` pays from the bureau (``root``): makes and exports the batches, which
    ``cashier`` confirms (no one confirms a batch they made or exported)."""

    root: OrgUnit
    finance: User
    cashier: User
    team_unit_id: int
    team_filer: User
    filers: dict[str, User]
    deciders: dict[int, User] = field(default_factory=dict)

    def load_deciders(self, post_names) -> None:
        users: dict[int, User] = {}
        for assignment in (Assignment.objects.current().filter(position__name__in=post_names)
                           .select_related("user").order_by("pk")):
            user = users.setdefault(assignment.user_id, assignment.user)
            self.deciders.setdefault(assignment.position_id, user)

    def filer_for(self, member) -> User:
        if member.org_unit_id == self.team_unit_id:
            return self.team_filer
        return self.filers[member.org_unit.path[: 2 * OrgUnit.steplen]]


def pending_task(application_id: int) -> ApprovalTask | None:
    case_id = (Application.objects.filter(pk=application_id)
               .values_list("case_id", flat=True).first())
    return (ApprovalTask.objects.filter(case_id=case_id, status=TaskStatus.PENDING)
            .select_related("step").first())


def decide(cast: Cast, task: ApprovalTask, decision: str, comment: str = "") -> None:
    approval_services.task_decide(actor=cast.deciders[task.assigned_position_id], task=task,
                                  decision=decision, comment=comment)


def approve_until(cast: Cast, application_id: int, rng: random.Random, *, post: str | None = None,
                  steps: int | None = None) -> ApprovalTask | None:
    """Approve the pending step until the one waiting is ``post``'s, ``steps`` were approved,
    or the case is approved (None)."""
    done = 0
    while (task := pending_task(application_id)) is not None:
        if (post and task.step.position_name == post) or (steps is not None and done >= steps):
            return task
        decide(cast, task, "approve", rng.choice(APPROVE_COMMENTS))
        done += 1
    return None


def file_application(*, actor, member, item: AssistanceItem, facts: dict, rng: random.Random,
                     materials: bool = True, fast_track_reason: str = "") -> Application:
    """A draft with a photo per required material; submitted unless ``materials`` is False."""
    application = assistance_services.application_create_draft(
        actor=actor, member=member, item=item, facts=facts,
        reason=rng.choice(REASONS.get(item.category.code, REASONS["zhukun"])),
    )
    if not materials:
        return application
    for n, name in enumerate(material_names(item)):
        assistance_services.attachment_add(actor=actor, application=application, material=name,
                                           uploaded_file=upload(name, n))
    return assistance_services.application_submit(
        actor=actor, application=application, fast_track=bool(fast_track_reason),
        fast_track_reason=fast_track_reason,
    )
