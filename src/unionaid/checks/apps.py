from django.apps import AppConfig


class ChecksConfig(AppConfig):
    """The auditor's checks: registered checks, findings, explanations and samples."""

    name = "unionaid.checks"
    label = "checks"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions
        from unionaid.checks import jobs

        register_permissions({
            "checks.view": _("查看审计核查疑点与抽查"),
            "checks.review": _("说明核查疑点、抽取样本并记录抽查结果"),
        }, order=85)
        jobs.register()
