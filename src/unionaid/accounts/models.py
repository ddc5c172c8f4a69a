from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from unionaid.accounts.access import Access, cached_access
from unionaid.accounts.permissions import ADMIN_DUTIES, PERMISSIONS, DataScope
from unionaid.core.fields import EncryptedTextField


class User(AbstractUser):
    """A login. Staff get their rights only through current Assignments; a worker's login is
    linked to their Member record and sees only themself."""

    member = models.OneToOneField(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="user", verbose_name=_("对应职工"),
    )
    # Bumped to end every session of the user at once (disable, last assignment ended).
    session_version = models.PositiveIntegerField(default=0)
    # Set for a one-time password someone else chose (a staff import, a generated first admin's
    # password): the user must set their own before any other page opens (AccessMiddleware).
    must_change_password = models.BooleanField(_("须修改密码"), default=False)
    # A staff member's work phone, as imported (encrypted at rest, shown masked).
    phone = EncryptedTextField(_("手机号"), blank=True, db_column="phone_enc")

    class Meta:
        verbose_name = _("用户")

    def get_session_auth_hash(self) -> str:
        # Sessions remember this hash; changing the password or session_version invalidates them.
        return salted_hmac(
            "unionaid.accounts.User.session",
            f"{self.password}:{self.session_version}",
            secret=settings.SECRET_KEY,
            algorithm="sha256",
        ).hexdigest()

    def save(self, *args, **kwargs):
        # A new password revokes every API token of the user, whatever set it (the user's own
        # change, an admin's reset, ``manage.py changepassword``): the one place all of them pass.
        # Django keeps the new clear password in ``_password`` until the save that stores it,
        # and not for a mere hash upgrade at login (``check_password`` clears it first).
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            self.revoke_api_tokens()

    def revoke_api_tokens(self) -> int:
        """Revoke every live API token of this user; how many were live."""
        return ApiToken.objects.filter(user_id=self.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username

    @property
    def access(self) -> Access:
        """This user's rights (``accounts.access``), found on first use and kept on this
        object, which lives for one request; ``accounts.access.forget_access`` drops them
        after a change of posts. Lower layers ask for them through ``core.access.access_for``.

        They come from the process's cache while the access stamp read on this request says
        nothing they are made of has changed (``accounts.access.cached_access``); the API token
        check reads the stamp in its own query (``access_stamp`` on the user), a session pays
        one small query for it."""
        cached = self.__dict__.get("_unionaid_access")
        if cached is None:
            cached = self._unionaid_access = cached_access(
                self, stamp=self.__dict__.pop("access_stamp", None),
                read_stamp=AccessStamp.current)
        return cached


class AccessStamp(models.Model):
    """One row whose ``value`` changes (to a random number) with every write to what rights are
    made of: assignments, positions, a position's roles, roles, org units. Database triggers
    set it (migration 0003), in the writing transaction, so no path around the services misses
    it; ``accounts.access.cached_access`` keys its cache on it."""

    value = models.BigIntegerField(default=0)

    class Meta:
        default_permissions = ()

    def __str__(self) -> str:
        return f"access stamp {self.value}"

    @classmethod
    def current(cls) -> int | None:
        """The stamp now; None without its row (a database just flushed: nothing cached)."""
        return cls.objects.filter(pk=1).values_list("value", flat=True).first()


class Role(models.Model):
    code = models.SlugField(_("编码"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    permissions = models.JSONField(_("权限"), default=list)
    data_scope = models.CharField(
        _("数据范围"), max_length=20, choices=DataScope.choices, default=DataScope.UNIT_AND_BELOW
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("角色")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = set(self.permissions) - set(PERMISSIONS)
        if unknown:
            raise ValidationError({"permissions": _("未知权限：%s") % ", ".join(sorted(unknown))})
        duties = set(self.permissions) & set(ADMIN_DUTIES)
        if len(duties) > 1:
            raise ValidationError(
                {"permissions": _("系统管理、安全管理、审计管理三类权限不能放在同一角色（三权分立）。")}
            )


class Position(models.Model):
    """A staff post in one OrgUnit (e.g. 站段工会帮扶干事); it carries roles."""

    org_unit = models.ForeignKey(
        "org.OrgUnit", on_delete=models.PROTECT, related_name="positions", verbose_name=_("单位")
    )
    name = models.CharField(_("岗位名称"), max_length=60)
    roles = models.ManyToManyField(Role, related_name="positions", verbose_name=_("角色"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("岗位")
        constraints = [
            models.UniqueConstraint(fields=["org_unit", "name"], name="position_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.org_unit.name}·{self.name}"


class AssignmentQuerySet(models.QuerySet):
    def current(self, at=None):
        at = at or timezone.now()
        return self.filter(starts_at__lte=at).filter(
            models.Q(ends_at__isnull=True) | models.Q(ends_at__gt=at)
        )


class Assignment(models.Model):
    """A user holding a Position from ``starts_at`` until ``ends_at`` (exclusive)."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("用户")
    )
    position = models.ForeignKey(
        Position, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("岗位")
    )
    starts_at = models.DateTimeField(_("开始"), default=timezone.now)
    ends_at = models.DateTimeField(_("结束"), null=True, blank=True)
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("任职")
        indexes = [models.Index(fields=["user", "ends_at"], name="assignment_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.position}"


class ApiToken(models.Model):
    """A bearer token for apps. Only a hash is stored; the token is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=60)
    prefix = models.CharField(max_length=8, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # None = until revoked (tokens made before expiry existed, and the API's own creation).
    expires_at = models.DateTimeField(_("有效期至"), null=True, blank=True)
    kind = models.CharField(max_length=10, default="personal",
                            choices=[("personal", _("个人令牌")), ("app_login", _("应用登录"))])

    class Meta:
        verbose_name = _("接口令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None
                                            or self.expires_at > timezone.now())
