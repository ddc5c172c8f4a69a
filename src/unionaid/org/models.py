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
