from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from unionaid.core import masking
from unionaid.core.fields import EncryptedTextField


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
    and found by a keyed hash; the record belongs to the member's unit, not to whoever typed it."""

    name = models.CharField(_("姓名"), max_length=50)
    id_number_enc = EncryptedTextField(_("身份证号"))
    id_number_hash = models.CharField(max_length=64, unique=True)
    birth_date = models.DateField(_("出生日期"))
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    phone_enc = EncryptedTextField(_("手机号"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    bank_account_enc = EncryptedTextField(_("银行账号"), blank=True)
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
        return masking.mask_id_number(self.id_number_enc)

    @property
    def phone_masked(self) -> str:
        return masking.mask_phone(self.phone_enc)

    @property
    def bank_account_masked(self) -> str:
        return masking.mask_bank_account(self.bank_account_enc)

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
    id_number_enc = EncryptedTextField(_("身份证号"), blank=True)
    id_number_hash = models.CharField(max_length=64, blank=True, db_index=True)
    health_note_enc = EncryptedTextField(_("健康状况"), blank=True)
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
