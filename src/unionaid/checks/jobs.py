"""The checks' periodic job, run by the scheduler (``unionaid.schedules``): every registered
check over the whole tree, nightly."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from unionaid.checks.services import checks_run
from unionaid.schedules.registry import register_job


def run_all(*, now) -> str:
    results = checks_run(actor=None, now=now)
    return gettext("运行核查 %(checks)d 项，发现疑点 %(found)d 条（新增 %(new)d 条，消除 %(resolved)d 条）") % {
        "checks": len(results), "found": sum(r.found for r in results),
        "new": sum(r.new for r in results), "resolved": sum(r.resolved for r in results)}


def register() -> None:
    register_job(
        "checks.run_all", run_all, default_schedule="30 2 * * *",
        label=_("审计核查"),
        description=_("对全部单位运行已登记的审计核查规则，记录新发现的疑点，并将不再出现的疑点标记为"
                      "已消除。默认每天 2:30。"))
