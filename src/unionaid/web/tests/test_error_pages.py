from django.test import Client


def test_unknown_pages_get_a_chinese_404(db, settings):
    settings.DEBUG = False
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()
