"""External datasets, their records, match runs, matches and the kept review decisions.

A ``Dataset`` is one upload of another department's list (低保, medical bills, admissions …);
it belongs to a unit (its scope) and is purged after its source's retention period. Its rows
are ``ExternalRecord``s: personal data, encrypted at rest like a member's identity (ID number,
phone, address, the list's own columns), found by keyed hashes. The ID hash uses the members'
purpose (``members.models.ID_PURPOSE``), so the exact stage of a run joins records to members
on hashes, never on clear numbers.

A ``MatchRun`` links one dataset to the in-scope member roll in the background; it writes
``Match`` rows (a record, a member, a score, a Chinese reason). A cadre confirms or rejects the
uncertain ones; the decision is kept as a ``PairDecision`` on the member and a stable
fingerprint of the external person, so the same pair is never asked again.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from unionaid.core import masking
from unionaid.core.fields import EncryptedTextField
from unionaid.members.models import ID_PURPOSE, PHONE_PURPOSE

# The external person's fingerprint when the row has no ID number (keyed hash of name + birth).
PERSON_PURPOSE = "matching.person"


class SourceKind(models.TextChoices):
    DIBAO = "dibao", _("低保")
    MEDICAL = "medical", _("医保大额自付")
    ADMISSION = "admission", _("录取名单")
    REGISTRY = "registry", _("户籍变动（出生、死亡）")
    PROPERTY = "property", _("房产")
    DISABILITY = "disability", _("残疾证")
    OTHER = "other", _("其他")


class Source(models.Model):
    """A kind of list a department sends (e.g. 民政局低保名单): how long its data is kept and
    how its unrecognised headers map to the canonical fields."""

    kind = models.CharField(_("类别"), max_length=20, choices=SourceKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("所属单位"))
    retention_days = models.PositiveIntegerField(_("保留天数"), default=180)
    # header as written in the department's file -> canonical field (files.CANONICAL)
    column_mapping = models.JSONField(_("列名对应"), default=dict, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("数据来源")
        ordering = ["kind", "name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def kind_label(self) -> str:
        return str(SourceKind(self.kind).label)


class DatasetStatus(models.TextChoices):
    UPLOADED = "uploaded", _("已上传")
    LOADING = "loading", _("正在导入")
    LOADED = "loaded", _("已导入")
    MATCHING = "matching", _("正在比对")
    MATCHED = "matched", _("已比对")
    FAILED = "failed", _("导入失败")
    CANCELLED = "cancelled", _("已取消")
    PURGED = "purged", _("已清除")


class Dataset(models.Model):
    """One upload of a department's list. The file is kept under PRIVATE_MEDIA_ROOT/matching/
    only until it is loaded (or the upload is cancelled or purged). ``problems`` holds at most
    ``MAX_STORED_PROBLEMS`` row problems (never a clear ID number); ``problem_count`` is all."""

    MAX_STORED_PROBLEMS = 1000
    ACTIVE = (DatasetStatus.LOADING, DatasetStatus.MATCHING)

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="datasets",
                               verbose_name=_("数据来源"))
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("所属单位"))
    title = models.CharField(_("标题"), max_length=200)
    file_name = models.CharField(_("文件名"), max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("上传人"))
    status = models.CharField(_("状态"), max_length=10, choices=DatasetStatus.choices,
                              default=DatasetStatus.UPLOADED)
    # a check (dry run) of the file has run: problems are listed, nothing is written
    checked = models.BooleanField(_("已检查"), default=False)
    stage = models.CharField(_("阶段"), max_length=20, blank=True)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    row_count = models.PositiveIntegerField(_("行数"), default=0)
    problem_count = models.PositiveIntegerField(_("问题数"), default=0)
    problems = models.JSONField(_("问题"), default=list, blank=True)
    columns = models.JSONField(_("识别的列"), default=dict, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    cancel_requested = models.BooleanField(default=False)
    current_run = models.ForeignKey("MatchRun", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("当前比对"))
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    # when a worker took the import (a load "in progress" long past it lost its worker)
    started_at = models.DateTimeField(_("开始导入时间"), null=True, blank=True)
    loaded_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    purge_after = models.DateTimeField(_("到期清除时间"), null=True, blank=True)
    purged_at = models.DateTimeField(_("清除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("外部数据")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["org_unit", "-created_at"], name="dataset_unit_idx"),
            models.Index(fields=["purge_after"], name="dataset_purge_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def status_label(self) -> str:
        return str(DatasetStatus(self.status).label)

    @property
    def is_busy(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)


class ExternalRecord(models.Model):
    """One row of a dataset, normalised (matching.normalise). Personal data: the ID number,
    phone, address and the list's own columns (amounts, school, dates …) are encrypted; the
    ID number and phone are found by keyed hashes with the members' purposes; ``person_key``
    is the stable fingerprint kept decisions are filed under (see ``person_key_for``)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="records")
    # the 1-based data row of the list (neither title rows nor the header), numbered on
    # across sheets: the ``external_row`` of the linkage; ``sheet_row`` as the sheet shows it
    row_no = models.PositiveIntegerField(_("行号"))
    sheet = models.CharField(_("工作表"), max_length=100, blank=True)
    sheet_row = models.PositiveIntegerField(_("表格行号"), null=True, blank=True)
    name = models.CharField(_("姓名"), max_length=100, blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True, db_column="id_number_enc",
                                   blind_index=("id_hash", ID_PURPOSE))
    id_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_ok = models.BooleanField(_("身份证号有效"), default=False)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    sex = models.CharField(_("性别"), max_length=1, blank=True)
    phone = EncryptedTextField(_("电话"), blank=True, db_column="phone_enc",
                               blind_index=("phone_hash", PHONE_PURPOSE))
    phone_hash = models.CharField(max_length=64, blank=True)
    address = EncryptedTextField(_("地址"), blank=True, db_column="address_enc")
    unit_name = models.CharField(_("单位"), max_length=200, blank=True)
    # JSON text of the list-specific values: {"amount": "…", "date": "…", "<header>": "…"}
    extra = EncryptedTextField(_("其他信息"), blank=True, db_column="extra_enc")
    person_key = models.CharField(max_length=70, blank=True, db_index=True)
    problems = models.JSONField(_("问题"), default=list, blank=True)

    class Meta:
        verbose_name = _("外部数据记录")
        ordering = ["dataset", "row_no", "pk"]
        constraints = [models.UniqueConstraint(fields=["dataset", "row_no"],
                                               name="record_dataset_row_uniq")]

    def __str__(self) -> str:
        return f"{self.dataset_id}#{self.row_no}"

    @property
    def id_number_masked(self) -> str:
        return masking.mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return masking.mask_phone(self.phone)

    @property
    def extras(self) -> dict[str, str]:
        """The list's own values (amount, date, school …) by canonical field or header."""
        return json.loads(self.extra) if self.extra else {}


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
    CANCELLED = "cancelled", _("已取消")


class MatchRun(models.Model):
    """One linkage of a dataset against the member roll the starter may match (their scope
    within the dataset's unit), run in the background with progress; cancel and retry."""

    FINISHED = (RunStatus.DONE, RunStatus.FAILED, RunStatus.CANCELLED)
    # stages: the run's own (members, records, writing) and the linkage's (linkage.STAGES)
    STAGE_LABELS = {
        "members": _("读取职工名册"), "records": _("读取外部记录"), "prepare": _("准备"),
        "exact": _("身份证号精确比对"), "deterministic": _("姓名与出生日期比对"),
        "probabilistic": _("概率比对"), "finish": _("整理结果"), "writing": _("写入结果"),
    }

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(_("状态"), max_length=10, choices=RunStatus.choices,
                              default=RunStatus.QUEUED)
    stage = models.CharField(_("阶段"), max_length=30, blank=True)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    # external rows, exact, probabilistic, review, unmatched, members, kept_rejected, …
    counts = models.JSONField(_("统计"), default=dict, blank=True)
    error = models.CharField(_("错误"), max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    cancel_requested = models.BooleanField(default=False)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("发起人"))
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("比对任务")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.dataset_id}/{self.pk}"

    @property
    def status_label(self) -> str:
        return str(RunStatus(self.status).label)

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def stage_label(self) -> str:
        return str(self.STAGE_LABELS.get(self.stage, self.stage))

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == RunStatus.DONE else 0
        return min(100, self.done * 100 // self.total)


class MatchMethod(models.TextChoices):
    EXACT = "exact", _("精确比对")
    PROBABILISTIC = "probabilistic", _("概率比对")


class MatchStatus(models.TextChoices):
    MATCHED = "matched", _("已匹配")
    REVIEW = "review", _("待复核")
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("已否定")


class Match(models.Model):
    """A member linked to a record of a dataset by a run. ``record`` is emptied when the
    dataset is purged (the link and its decision stay as history, the external data goes).

    What counts as "this member is on that list" (for leads): a match of the dataset's current
    run (``dataset.current_run``) whose status is in ``Match.LINKED`` (matched or confirmed).
    """

    LINKED = (MatchStatus.MATCHED, MatchStatus.CONFIRMED)

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="matches")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="matches")
    record = models.ForeignKey(ExternalRecord, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="matches")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+",
                               verbose_name=_("职工"))
    score = models.FloatField(_("得分"))
    method = models.CharField(_("方法"), max_length=15, choices=MatchMethod.choices)
    reason = models.CharField(_("依据"), max_length=500, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=MatchStatus.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("复核人"))
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("比对结果")
        ordering = ["-score", "pk"]
        indexes = [
            models.Index(fields=["run", "status"], name="match_run_status_idx"),
            models.Index(fields=["status", "member"], name="match_status_member_idx"),
        ]
        # one match per record and run (a worker presumed dead must not write a second copy);
        # a purged dataset's matches keep no record
        constraints = [models.UniqueConstraint(fields=["run", "record"],
                                               condition=models.Q(record__isnull=False),
                                               name="match_run_record_uniq")]

    def __str__(self) -> str:
        return f"{self.member_id}~{self.record_id}"

    @property
    def status_label(self) -> str:
        return str(MatchStatus(self.status).label)

    @property
    def method_label(self) -> str:
        return str(MatchMethod(self.method).label)

    @property
    def is_decided(self) -> bool:
        return self.status in (MatchStatus.CONFIRMED, MatchStatus.REJECTED)


class Decision(models.TextChoices):
    CONFIRMED = "confirmed", _("确认是同一人")
    REJECTED = "rejected", _("不是同一人")


class PairDecision(models.Model):
    """A cadre's answer for a member and an external person (``ExternalRecord.person_key``):
    kept across datasets and runs, so the same pair is never asked again."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    person_key = models.CharField(max_length=70)
    decision = models.CharField(_("结论"), max_length=10, choices=Decision.choices)
    match = models.ForeignKey(Match, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("复核时间"))

    class Meta:
        verbose_name = _("复核结论")
        constraints = [models.UniqueConstraint(fields=["member", "person_key"],
                                               name="pairdecision_pair_uniq")]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.decision}"


# Leads (线索) live in their own module; imported here so Django finds them as this app's models.
from unionaid.matching.models_leads import (  # noqa: E402, F401
    Lead,
    LeadAction,
    LeadRule,
    LeadStatus,
    ReviewKind,
)
