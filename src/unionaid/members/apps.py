from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "unionaid.members"
    label = "members"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from unionaid.accounts.permissions import register_permissions

        # the rights this app's pages, services and registrations below name
        register_permissions({
            "members.view": _("查看职工"),
            "members.change": _("新增、修改职工"),
            "members.reveal": _("查看完整证件号、手机号"),
            "members.import": _("导入职工名册"),
            "members.export": _("导出职工名册"),
            "members.consent": _("登记个人信息同意"),
        }, order=20)
        from unionaid.members.services import unit_close_guard
        from unionaid.org.guards import register_close_guard

        register_close_guard("members.members", unit_close_guard, order=10)
