"""The yearly-caps page and the API-token pages, on a phone and on a desktop: a catalog
maintainer sets a cap from today; a cadre issues a token (shown once) and the security admin
revokes it. Every page reached is checked (``checks.Browse.check``)."""

from __future__ import annotations

import re
from decimal import Decimal

from unionaid.accounts.models import ApiToken
from unionaid.assistance.models import AnnualCap


def test_a_catalog_maintainer_sets_a_yearly_cap_from_today(browse):
    cadre = browse("bureau_cadre")
    cadre.go("/assistance/catalog/")
    cadre.click(cadre.page.locator("main a[href='/assistance/catalog/caps/']"))
    form = cadre.page.locator("main form[method=post]")
    form.locator("select[name=scope]").select_option(label="助医")
    form.locator("input[name=per_person]").fill("12000")
    cadre.click(form.locator("button[type=submit]"))
    assert "已保存年度帮扶上限" in cadre.page.locator("body").inner_text()
    assert "12,000.00" in cadre.text()
    cap = AnnualCap.objects.filter(category__name="助医").latest("effective_from")
    assert cap.per_person == Decimal("12000.00")


def test_a_cadre_issues_a_token_and_the_security_admin_revokes_it(browse):
    cadre = browse("team_cadre")
    cadre.go("/accounts/tokens/")
    form = cadre.page.locator("main form[method=post]").last
    form.locator("input[name=name]").fill("工会小程序")
    form.locator("select[name=expiry_days]").select_option("30")
    cadre.click(form.locator("button[type=submit]"))
    shown = cadre.page.locator("#new-token code").inner_text()
    assert re.fullmatch(r"ua_[A-Za-z0-9_-]{40,}", shown)
    cadre.go("/accounts/tokens/")
    assert shown not in cadre.page.content()  # shown once only

    admin = browse(None)
    admin.login_with_code("secadmin")
    admin.go("/accounts/admin/tokens/?q=team_cadre")
    assert "工会小程序" in admin.text()
    admin.click(admin.page.locator("main form[action$='/revoke/'] button").first)
    token = ApiToken.objects.get(user__username="team_cadre", name="工会小程序")
    assert token.revoked_at is not None
