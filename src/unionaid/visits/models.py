"""Finding hardship by going to people: campaigns, pairings, visits and household profiles.

A visit keeps a dated snapshot of the household's six-clear profile (六清: household members,
income sources, cause of hardship, housing, health, children's schooling). The profile's
details are personal and partly sensitive (health, minors), so they are stored encrypted as
one JSON document (``HouseholdProfile.data_json``); only the derived figures needed for
statistics and rules (household size, per-capita income, causes) are plain columns.
Every row belongs to an org unit (the visited member's unit, or the visited unit), which is
what data scope filters on.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from unionaid.core.fields import EncryptedTextField


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("筹备中")
    ACTIVE = "active", _("进行中")
    CLOSED = "closed", _("已结束")


class VisitCampaign(models.Model):
    """A drive in which cadres visit enterprises and homes (走访行动 / 大走访)."""

    name = models.CharField(_("名称"), max_length=100)
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("发起单位"))
    covered_units = models.ManyToManyField("org.OrgUnit", related_name="+", blank=True,
                                           verbose_name=_("覆盖单位"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    description = models.TextField(_("说明"), blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=CampaignStatus.choices,
                              default=CampaignStatus.ACTIVE)
    target_units = models.PositiveIntegerField(_("目标：走访单位数"), default=0)
    target_workers = models.PositiveIntegerField(_("目标：走访职工数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访行动")
        ordering = ["-starts_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                              name="campaign_period_order")]

    def __str__(self) -> str:
        return self.name


class PairingKind(models.TextChoices):
    UNIT = "unit", _("一人一企（联系单位）")
    HOUSEHOLD = "household", _("一对一联系户")


class Pairing(models.Model):
    """One cadre responsible for one unit (一人一企) or one household (一对一联系户)."""

    campaign = models.ForeignKey(VisitCampaign, on_delete=models.CASCADE, related_name="pairings")
    cadre = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="pairings", verbose_name=_("结对干部"))
    kind = models.CharField(_("结对类型"), max_length=10, choices=PairingKind.choices)
    target_unit = models.ForeignKey("org.OrgUnit", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("联系单位"))
    member = models.ForeignKey("members.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+", verbose_name=_("联系户（职工）"))
    # the unit the pairing belongs to, for data scope: target_unit, or the member's unit
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("结对")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="unit", target_unit__isnull=False, member__isnull=True)
                           | Q(kind="household", member__isnull=False, target_unit__isnull=True)),
                name="pairing_kind_target"),
            models.UniqueConstraint(fields=["campaign", "target_unit"],
                                    condition=Q(kind="unit"), name="pairing_one_cadre_per_unit"),
            models.UniqueConstraint(fields=["campaign", "member"],
                                    condition=Q(kind="household"),
                                    name="pairing_one_cadre_per_household"),
        ]
        indexes = [models.Index(fields=["campaign", "cadre"], name="pairing_campaign_cadre_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.cadre_id}:{self.target_unit_id or self.member_id}"


class VisitKind(models.TextChoices):
    HOME = "home", _("入户走访")
    WORKPLACE = "workplace", _("走访单位")


class Satisfaction(models.IntegerChoices):
    VERY_SATISFIED = 5, _("非常满意")
    SATISFIED = 4, _("满意")
    NEUTRAL = 3, _("一般")
    DISSATISFIED = 2, _("不满意")
    VERY_DISSATISFIED = 1, _("很不满意")


class Visit(models.Model):
    """One home or workplace visit (走访记录), as recorded in the visit ledger (走访台账).

    ``client_uuid`` is generated on the device when the form is opened; submitting the same
    draft twice (a retry after a lost connection) finds the existing visit instead of adding
    a second one.
    """

    client_uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("走访类型"), max_length=10, choices=VisitKind.choices,
                            default=VisitKind.HOME)
    campaign = models.ForeignKey(VisitCampaign, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="visits", verbose_name=_("走访行动"))
    pairing = models.ForeignKey(Pairing, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="visits")
    member = models.ForeignKey("members.Member", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="visits", verbose_name=_("走访职工"))
    visited_unit = models.ForeignKey("org.OrgUnit", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("走访单位"))
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField(_("走访日期"))
    visitors = models.CharField(_("走访人员"), max_length=200)
    place = models.CharField(_("走访地点"), max_length=200, blank=True)
    summary = models.TextField(_("走访情况"), blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True,
                                                    choices=Satisfaction.choices)
    hardship_found = models.BooleanField(_("发现困难"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访记录")
        ordering = ["-visited_on", "-id"]
        constraints = [models.CheckConstraint(
            condition=Q(member__isnull=False) | Q(visited_unit__isnull=False),
            name="visit_has_target")]
        indexes = [
            models.Index(fields=["org_unit", "-visited_on"], name="visit_unit_date_idx"),
            models.Index(fields=["campaign", "recorded_by"], name="visit_campaign_cadre_idx"),
            models.Index(fields=["member", "-visited_on"], name="visit_member_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.get_kind_display()}"


class HousingKind(models.TextChoices):
    OWN = "own", _("自有住房")
    RENT = "rent", _("租房")
    PUBLIC = "public", _("公租房/廉租房")
    DORM = "dorm", _("单位宿舍")
    BORROWED = "borrowed", _("借住")
    NONE = "none", _("无固定住所")


class HardshipCause(models.TextChoices):
    ILLNESS = "illness", _("因病")
    DISABILITY = "disability", _("因残")
    ACCIDENT = "accident", _("意外事故")
    DISASTER = "disaster", _("自然灾害")
    SCHOOLING = "schooling", _("子女上学")
    UNEMPLOYMENT = "unemployment", _("失业/下岗")
    LOW_INCOME = "low_income", _("收入低")
    SINGLE_PARENT = "single_parent", _("单亲家庭")
    OTHER = "other", _("其他")


class HouseholdProfile(models.Model):
    """A dated snapshot of a member's household (家庭情况, 六清), usually taken on a visit.

    ``data_json`` holds the whole six-clear profile as JSON text (see
    ``visits.profile.PROFILE_SCHEMA``), encrypted in its column ``data_enc``; the plain columns
    are derived from it when saved and are what statistics, watch lists and the archive's
    category calculation query.
    """

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT,
                               related_name="profiles", verbose_name=_("职工"))
    visit = models.OneToOneField(Visit, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="profile")
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    taken_on = models.DateField(_("登记日期"))
    data_json = EncryptedTextField(_("家庭情况（加密）"), db_column="data_enc")
    household_size = models.PositiveSmallIntegerField(_("家庭人口"))
    annual_income = models.DecimalField(_("家庭年可支配收入"), max_digits=12, decimal_places=2)
    rigid_expenses = models.DecimalField(_("刚性支出（年）"), max_digits=12, decimal_places=2,
                                         default=0)
    per_capita_monthly = models.DecimalField(_("人均月收入"), max_digits=10, decimal_places=2)
    causes = models.CharField(_("致困原因"), max_length=200, blank=True)  # comma-separated codes
    housing = models.CharField(_("住房"), max_length=10, choices=HousingKind.choices, blank=True)
    has_major_illness = models.BooleanField(_("大病/慢病"), default=False)
    has_disability = models.BooleanField(_("残疾"), default=False)
    children_in_school = models.PositiveSmallIntegerField(_("在读子女"), default=0)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("家庭情况")
        ordering = ["-taken_on", "-id"]
        indexes = [models.Index(fields=["member", "-taken_on", "-id"],
                                name="profile_member_date_idx")]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.taken_on}"

    @property
    def cause_codes(self) -> list[str]:
        return [c for c in self.causes.split(",") if c]


class NeedKind(models.TextChoices):
    MONEY = "money", _("资金帮扶")
    JOB = "job", _("就业岗位")
    TRAINING = "training", _("技能培训")
    COUNSELLING = "counselling", _("心理疏导")
    LEGAL = "legal", _("法律援助")
    OTHER = "other", _("其他")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    APPLICATION = "application", _("已转帮扶申请")
    FOLLOW_UP = "follow_up", _("已转跟进事项")
    CLOSED = "closed", _("已解决")


class VisitNeed(models.Model):
    """A need found on a visit; it becomes, in one step, an assistance application (with the
    worker's consent recorded) or a follow-up with an owner."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="needs")
    kind = models.CharField(_("需求类型"), max_length=12, choices=NeedKind.choices)
    note = models.CharField(_("需求说明"), max_length=300, blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=NeedStatus.choices,
                              default=NeedStatus.OPEN)
    application = models.ForeignKey("assistance.Application", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    consent_recorded_at = models.DateTimeField(_("职工同意时间"), null=True, blank=True)
    consent_method = models.CharField(_("同意方式"), max_length=60, blank=True)
    resolution_note = models.CharField(_("解决情况"), max_length=300, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("走访发现的需求")

    def __str__(self) -> str:
        return self.get_kind_display()


class FollowUpStatus(models.TextChoices):
    OPEN = "open", _("待办")
    DONE = "done", _("已办结")
    CANCELLED = "cancelled", _("已取消")


class FollowUp(models.Model):
    """Something to do after a visit or after leaving the archive, with an owner and a due date.
    ``hardship_record`` is set for the follow-up visits after an exit (回访)."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    org_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="follow_ups")
    need = models.ForeignKey(VisitNeed, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="follow_ups")
    hardship_record = models.ForeignKey("archive.HardshipRecord", null=True, blank=True,
                                        on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(_("事项"), max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="follow_ups", verbose_name=_("责任人"))
    due_on = models.DateField(_("办理期限"))
    status = models.CharField(_("状态"), max_length=10, choices=FollowUpStatus.choices,
                              default=FollowUpStatus.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.CharField(_("办理结果"), max_length=300, blank=True)
    done_visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("跟进事项")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["owner", "status", "due_on"], name="followup_owner_idx"),
            models.Index(fields=["org_unit", "status", "due_on"], name="followup_unit_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class VisitPhoto(models.Model):
    """A photo taken on a visit: stored outside the web root like application attachments
    (content-typed, EXIF stripped, thumbnail), served only through a checked view."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="photos")
    original_name = models.CharField(max_length=200)
    storage_path = models.CharField(max_length=300)
    thumbnail_path = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("走访照片")

    def __str__(self) -> str:
        return self.original_name
