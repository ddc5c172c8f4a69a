"""The statistics store: one row per counted source record (``StatRecord``) and the summary
cells kept from them (``StatCell``), in the main database. See docs/architecture.md,
"Statistics: the store", for why and how exactly."""

from __future__ import annotations

from django.db import models


class StatRecord(models.Model):
    """What one source record of a fact contributes, as last counted.

    ``org_path`` is the unit's materialised path when counted (a subtree is a prefix);
    ``d1``…``d3`` the fact's own dimension values, ``d4``…``d6`` the member's sex, age band and
    employment form; ``n*``/``a*`` the additive columns the fact's measures read.
    """

    fact = models.CharField(max_length=40)
    source_id = models.BigIntegerField()
    part = models.PositiveSmallIntegerField(default=0)
    org_unit_id = models.BigIntegerField()
    org_path = models.CharField(max_length=255)
    member_id = models.BigIntegerField(null=True)
    month = models.PositiveIntegerField()  # 202503
    quarter = models.PositiveIntegerField()  # 20251
    year = models.PositiveSmallIntegerField()
    d1 = models.CharField(max_length=40, default="")
    d2 = models.CharField(max_length=40, default="")
    d3 = models.CharField(max_length=40, default="")
    d4 = models.CharField(max_length=40, default="")
    d5 = models.CharField(max_length=40, default="")
    d6 = models.CharField(max_length=40, default="")
    n1 = models.BigIntegerField(default=0)
    n2 = models.BigIntegerField(default=0)
    n3 = models.BigIntegerField(default=0)
    a1 = models.BigIntegerField(default=0)  # money in cents
    a2 = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fact", "source_id", "part"],
                                               name="statrecord_one_per_source_part")]
        indexes = [
            models.Index(fields=["fact", "org_path", "month"], name="statrecord_path_idx"),
            models.Index(fields=["fact", "member_id"], name="statrecord_member_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.fact}#{self.source_id}.{self.part}"


class StatCell(models.Model):
    """A summary cell: the records of ``fact`` under the unit at ``unit_path`` (its whole
    subtree; the unit sits at ``depth``), in ``period`` of ``grain`` (m 202503, q 20251,
    y 2025, a 0 = all time), with ``dim`` = ``value`` (``dim`` "" = all values).
    ``people`` is the number of distinct members among exactly those records."""

    fact = models.CharField(max_length=40)
    grain = models.CharField(max_length=1)
    depth = models.PositiveSmallIntegerField()
    dim = models.CharField(max_length=40, default="")
    unit_path = models.CharField(max_length=255)
    period = models.PositiveIntegerField()
    value = models.CharField(max_length=40, default="")
    n1 = models.BigIntegerField(default=0)
    n2 = models.BigIntegerField(default=0)
    n3 = models.BigIntegerField(default=0)
    a1 = models.BigIntegerField(default=0)  # money in cents
    a2 = models.BigIntegerField(default=0)
    people = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(
            fields=["fact", "grain", "depth", "dim", "unit_path", "period", "value"],
            name="statcell_one_per_key")]

    def __str__(self) -> str:
        return f"{self.fact} {self.grain}{self.period} {self.unit_path} {self.dim}={self.value}"


class StatWatermark(models.Model):
    """How far the refresher has read each fact's sources (``since`` of the next run, less
    the overlap). The row is also the refresher's lock: every refresh of a fact first
    updates it, so two refreshers take turns."""

    fact = models.CharField(max_length=40, unique=True)
    read_to = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.fact} → {self.read_to}"
