from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from unionaid.core import masking
from unionaid.core.fields import EncryptedTextField

# Blind-index purposes: equal values in different fields get different hashes.
ID_PURPOSE = "member.id_number"
PHONE_PURPOSE = "member.phone"


class EmploymentForm(models.TextChoices):
    REGULAR = "regular", _("合同制职工")
    DISPATCHED = "dispatched", _("劳务派遣")
    NEW_EMPLOYMENT_FORM = "new_employment_form", _("新就业形态劳动者")
    PART_TIME = "part_time", _("非全日制")
    RETIRED_REHIRED = "rehired", _("退休返聘")


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("在籍会员")
    NON_MEMBER = "non_member", _("非会员")
    TRANSFERRED_OUT = "transferred_out", _("已转出")
    RETIRED = "retired", _("已退休")
    DECEASED = "deceased", _("已故")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Member(models.Model):
    """A worker on the union's roll. ID number, phone and bank account are encrypted at rest
    (the fields hold the clear values in Python; their columns, still named ``…_enc``, hold the
    ciphertext) and found by a keyed hash; the record belongs to the member's unit, not to whoever
    typed it."""

    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedTextField(_("身份证号"), db_column="id_number_enc",
                                   blind_index=("id_number_hash", ID_PURPOSE))
    id_number_hash = models.CharField(max_length=64, unique=True)
    birth_date = models.DateField(_("出生日期"))
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    phone = EncryptedTextField(_("手机号"), blank=True, db_column="phone_enc",
                               blind_index=("phone_hash", PHONE_PURPOSE))
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    bank_account = EncryptedTextField(_("银行账号"), blank=True, db_column="bank_account_enc")
    org_unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="members", verbose_name=_("单位")
    )
    employment_form = models.CharField(
        _("用工形式"), max_length=24, choices=EmploymentForm.choices, default=EmploymentForm.REGULAR
    )
    membership_status = models.CharField(
        _("会籍状态"), max_length=20, choices=MembershipStatus.choices,
        default=MembershipStatus.ACTIVE,
    )
    joined_on = models.DateField(_("入会日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("职工")
        indexes = [
            models.Index(fields=["name"], name="member_name_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["org_unit", "name"], name="member_unit_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def id_number_masked(self) -> str:
        return masking.mask_id_number(self.id_number)

    @property
    def phone_masked(self) -> str:
        return masking.mask_phone(self.phone)

    @property
    def bank_account_masked(self) -> str:
        return masking.mask_bank_account(self.bank_account)

    @property
    def has_bank_account(self) -> bool:
        """Whether a grant can be paid to them (a disbursement batch needs an account)."""
        return bool(self.bank_account)

    # Labels through the enums: get_FOO_display() rebuilds a choices dict on every call, which
    # costs milliseconds on a 50-row list (docs/benchmarks.md).
    @property
    def employment_form_label(self) -> str:
        return EmploymentForm(self.employment_form).label

    @property
    def membership_status_label(self) -> str:
        return MembershipStatus(self.membership_status).label

    @property
    def is_active_member(self) -> bool:
        return self.membership_status == MembershipStatus.ACTIVE


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    PARENT_IN_LAW = "parent_in_law", _("岳父母/公婆")
    SIBLING = "sibling", _("兄弟姐妹")
    GRANDCHILD = "grandchild", _("孙子女")
    OTHER = "other", _("其他")


class HouseholdMember(models.Model):
    """A person in a member's household. Health notes and children's data need the member's
    separate consent (PIPL art. 28–31)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="household")
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("关系"), max_length=20, choices=Relation.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    id_number = EncryptedTextField(_("身份证号"), blank=True, db_column="id_number_enc",
                                   blind_index=("id_number_hash", ID_PURPOSE))
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    health_note = EncryptedTextField(_("健康状况"), blank=True, db_column="health_note_enc")
    occupation = models.CharField(_("职业/就学"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("家庭成员")

    def __str__(self) -> str:
        return f"{self.name}（{self.get_relation_display()}）"


class ConsentKind(models.TextChoices):
    HEALTH = "health", _("健康信息")
    CHILDREN = "children", _("未成年子女信息")


class Consent(models.Model):
    """A member's separate consent to process sensitive data; withdrawal blocks processing."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(_("类别"), max_length=20, choices=ConsentKind.choices)
    granted_at = models.DateTimeField(_("同意时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    method = models.CharField(_("方式"), max_length=60, default="书面签字")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("个人信息同意")
        indexes = [models.Index(fields=["member", "kind"], name="consent_member_kind_idx")]

    def __str__(self) -> str:
        return f"{self.member_id}:{self.kind}"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportJobStage(models.TextChoices):
    CHECKING = "checking", _("正在检查")
    WRITING = "writing", _("正在写入")


class ImportJob(models.Model):
    """One upload of a roster, checked (dry run) or imported in the background.

    The uploaded file is kept under PRIVATE_MEDIA_ROOT/imports/ only as long as it is needed: it
    is deleted after a real import or a failed check. ``errors`` holds at most
    ``MAX_STORED_ERRORS`` row errors (never clear ID numbers); ``error_count`` is the total."""

    MAX_STORED_ERRORS = 1000

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("上传人"),
    )
    org_unit = models.ForeignKey(
        "org.OrgUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("所属单位"),
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)
    dry_run = models.BooleanField(_("仅检查"), default=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED
    )
    stage = models.CharField(_("阶段"), max_length=10, choices=ImportJobStage.choices, blank=True)
    total = models.PositiveIntegerField(_("总行数"), default=0)
    processed = models.PositiveIntegerField(_("已处理"), default=0)
    created = models.PositiveIntegerField(_("新增"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("名册导入任务")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="importjob_user_idx")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportJobStatus.DONE, ImportJobStatus.FAILED)

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.is_finished else 0
        return min(100, self.processed * 100 // self.total)
