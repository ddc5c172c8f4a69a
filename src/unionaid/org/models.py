from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node


class OrgLevel(models.Model):
    """The name of a depth in the tree (路局, 站段, 车间, 班组 …); depth 1 is the root."""

    depth = models.PositiveSmallIntegerField(_("层级"), unique=True)
    name = models.CharField(_("名称"), max_length=30)

    class Meta:
        ordering = ["depth"]
        verbose_name = _("层级")

    def __str__(self) -> str:
        return self.name


class UnionProfile(models.Model):
    """The union this installation serves: one row (pk 1), written by first-run set-up
    (``unionaid setup``). Its name is the product's title in the page header."""

    name = models.CharField(_("工会名称"), max_length=100)
    set_up_at = models.DateTimeField(_("初始化时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工会")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="union_profile_single")]

    def __str__(self) -> str:
        return self.name


class OrgUnit(MP_Node):
    """A node of the union tree. Materialised path (treebeard): a subtree is one indexed
    ``path LIKE 'prefix%'`` query, never a walk row by row."""

    steplen = 4
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    node_order_by = ["code"]

    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("编码"), max_length=40, unique=True)
    region_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    is_closed = models.BooleanField(_("已撤销"), default=False)
    closed_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("组织")
        indexes = [models.Index(fields=["path"], name="org_path_idx",
                                opclasses=["varchar_pattern_ops"])]

    def __str__(self) -> str:
        return self.name
