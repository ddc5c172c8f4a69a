"""Permission codes are registered by the apps that use them, so a new domain adds its rights
without editing accounts: the role editor offers them, a role may carry them, and nothing else
is accepted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conftest import verified_login
from unionaid.accounts.models import DataScope, Role
from unionaid.accounts.permissions import (
    PERMISSIONS,
    permission_choices,
    register_permissions,
    unregister_permissions,
)

TOY = {"toy.view": "查看玩具", "toy.manage": "管理玩具"}


@pytest.fixture
def toy_permissions():
    register_permissions(TOY, order=70)
    yield
    unregister_permissions(TOY)


def test_each_app_registers_its_own_permissions():
    codes = set(PERMISSIONS)
    # the rights layer's own, and each app's from its AppConfig.ready()
    assert {"org.view", "system.config", "security.manage", "audit.view"} <= codes
    assert {"members.view", "assistance.apply", "visits.record", "archive.config",
            "funds.confirm", "trace.view"} <= codes
    order = [code for code, _label in permission_choices()]
    assert order.index("org.view") < order.index("members.view") < order.index("assistance.view")
    assert order.index("archive.config") < order.index("funds.view")
    assert order[-3:] == ["system.config", "security.manage", "audit.view"]


def test_a_registered_permission_is_offered_and_kept_on_a_role(toy_permissions, client,
                                                                personas):
    sec = verified_login(client, personas.security_admin)
    page = sec.get(reverse("accounts:admin-role-create")).content.decode()
    assert 'value="toy.manage"' in page
    response = sec.post(reverse("accounts:admin-role-create"), {
        "code": "toy-keeper", "name": "玩具管理员", "data_scope": DataScope.UNIT,
        "permissions": ["toy.view", "toy.manage"],
    })
    assert response.status_code == 302
    assert sorted(Role.objects.get(code="toy-keeper").permissions) == ["toy.manage", "toy.view"]


def test_an_unregistered_permission_is_refused(client, personas):
    sec = verified_login(client, personas.security_admin)
    response = sec.post(reverse("accounts:admin-role-create"), {
        "code": "toy-keeper", "name": "玩具管理员", "data_scope": DataScope.UNIT,
        "permissions": ["toy.view"],
    })
    assert response.status_code == 200  # the form again, with its error
    assert not Role.objects.filter(code="toy-keeper").exists()


def test_a_code_registered_twice_or_malformed_is_a_programming_error(toy_permissions):
    with pytest.raises(ValueError, match="twice"):
        register_permissions({"toy.view": "again"}, order=70)
    with pytest.raises(ValueError, match="area"):
        register_permissions({"toyview": "no area"}, order=70)
