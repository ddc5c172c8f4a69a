from django.test import Client
from django.utils import translation


def test_the_ui_switches_to_english(db):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    html = client.get("/accounts/login/").content.decode()
    assert 'lang="en"' in html
    with translation.override("en"):
        assert translation.gettext("职工") != "职工"  # the catalogue is compiled and found
    assert "登录" not in html.split("<footer")[0]


def test_chinese_is_the_default_whatever_the_browser_asks(db):
    html = Client().get("/accounts/login/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert 'lang="zh-hans"' in html.content.decode()
