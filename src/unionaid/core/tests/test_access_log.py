"""ID numbers and phones that reach a URL are masked in the server's request log: Django's
runserver lines (the ``django.server`` logger, configured in settings.LOGGING) and gunicorn's
access log (config/gunicorn.conf.py) — issue 10, item 4."""

from __future__ import annotations

import datetime as dt
import io
import logging
import logging.config
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from gunicorn.config import Config

from unionaid.core.logging import redact
from unionaid.core.masking import without_identifiers
from unionaid.core.synthetic import SyntheticPeople

ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture
def person():
    return SyntheticPeople(11).person()


def test_the_redactor_masks_id_numbers_and_phones_in_a_request_line(person):
    line = (f'"GET /members/?q={person["id_number"]}&unit=3 HTTP/1.1" 200 1234 '
            f'"GET /api/v1/archive/records?q={person["phone"]}"')
    cleaned = redact(line)
    assert person["id_number"] not in cleaned
    assert person["phone"] not in cleaned
    assert "q=[ID]&unit=3" in cleaned
    assert "q=[PHONE]" in cleaned
    # 15-digit (first-generation) numbers too; short numbers (ids, years) stay
    assert redact("/x?q=110105900101123&page=2") == "/x?q=[ID]&page=2"
    assert redact("/api/v1/members/12345?year=2026") == "/api/v1/members/12345?year=2026"


def test_the_redactor_masks_numbers_typed_in_groups(person):
    """People type ID numbers and phones in groups; URLs carry the spaces as + or %20."""
    number, phone = person["id_number"], person["phone"]
    grouped_id = f"{number[:6]} {number[6:14]} {number[14:]}"
    grouped_phone = f"{phone[:3]}-{phone[3:7]}-{phone[7:]}"
    for text, mask in (
        (f"/members/?q={grouped_id.replace(' ', '+')}&page=2", "[ID]"),
        (f"/members/?q={grouped_id.replace(' ', '%20')}&page=2", "[ID]"),
        (f"/members/?q={grouped_id.replace(' ', '%2B')}&page=2", "[ID]"),
        (f"/members/?q={grouped_phone}&page=2", "[PHONE]"),
        (f"/members/?q=%2B86%20{phone[:3]}%20{phone[3:7]}%20{phone[7:]}&page=2", "[PHONE]"),
    ):
        cleaned = redact(text)
        assert cleaned.startswith("/members/?q="), cleaned
        assert cleaned.endswith(f"{mask}&page=2"), cleaned
        for group in (number[6:14], phone[3:7] + phone[7:], phone[7:]):
            assert group not in cleaned
    # dates, times, status codes and sizes keep their digits
    line = '2026-12-07 16:03:20,123 "GET /x?d=2026-12-07 HTTP/1.1" 200 1234'
    assert redact(line) == line


def test_runserver_request_lines_are_redacted(person):
    stream = io.StringIO()
    logger = logging.getLogger("django.server")
    saved = (logger.handlers[:], logger.propagate, logger.level)
    try:
        logging.config.dictConfig(settings.LOGGING)
        handler = logger.handlers[0]
        handler.setStream(stream)
        # what django.core.servers.basehttp.WSGIRequestHandler.log_message sends
        logger.info('"%s" %s %s', f"GET /members/?q={person['id_number']} HTTP/1.1", "400", "512",
                    extra={"request": None, "server_time": "07/Dec/2026 15:00:00",
                           "status_code": 400})
    finally:
        logger.handlers[:], logger.propagate, logger.level = saved
    text = stream.getvalue()
    assert "GET /members/?q=[ID] HTTP/1.1" in text
    assert person["id_number"] not in text


def test_gunicorns_access_log_is_redacted(person):
    conf = runpy.run_path(str(ROOT / "config" / "gunicorn.conf.py"))
    cfg = Config()
    for name in ("logger_class", "accesslog", "wsgi_app"):
        cfg.set(name, conf[name])
    glog = cfg.logger_class(cfg)
    stream = io.StringIO()
    glog.access_log.addHandler(logging.StreamHandler(stream))
    try:
        environ = {"REQUEST_METHOD": "GET", "SERVER_PROTOCOL": "HTTP/1.1",
                   "RAW_URI": f"/api/v1/assistance/applications?q={person['id_number']}",
                   "PATH_INFO": "/api/v1/assistance/applications",
                   "QUERY_STRING": f"q={person['id_number']}&phone={person['phone']}",
                   "REMOTE_ADDR": "127.0.0.1",
                   "HTTP_REFERER": f"https://unionaid.example/members/?q={person['phone']}"}
        resp = SimpleNamespace(status="400 Bad Request", sent=80, headers=[])
        glog.access(resp, SimpleNamespace(headers=[]), environ, dt.timedelta(milliseconds=5))
        glog.error("worker saw %s", person["id_number"])
    finally:
        for log in (glog.access_log, glog.error_log):
            for handler in log.handlers[:]:
                log.removeHandler(handler)
    text = stream.getvalue()
    assert "applications?q=[ID]" in text
    assert "members/?q=[PHONE]" in text  # the referer too
    assert person["id_number"] not in text
    assert person["phone"] not in text


def test_an_address_loses_its_identifier_like_values_and_keeps_the_rest(person):
    number, phone = person["id_number"], person["phone"]
    assert without_identifiers(f"/members/?q={number}&unit=3") == "/members/?unit=3"
    assert without_identifiers(f"/x/?a=1&q={phone}") == "/x/?a=1"
    nested = f"/accounts/login/?next=/members/%3Fq%3D{number}%26unit%3D3"
    assert without_identifiers(nested) == "/accounts/login/?next=%2Fmembers%2F%3Funit%3D3"
    assert without_identifiers("/todo/?q=%E7%8E%8B&page=2") == "/todo/?q=%E7%8E%8B&page=2"
    assert without_identifiers("/plain/") == "/plain/"


@pytest.mark.django_db
def test_no_redirect_carries_an_id_number_or_phone(client, person):
    """An anonymous visit of /members/?q=<ID> goes to the login page without the ID in its
    ``next``: it reaches neither the browser's history nor the next access-log line."""
    for value in (person["id_number"], person["phone"]):
        response = client.get("/members/", {"q": value, "unit": "3"})
        assert response.status_code == 302
        location = response["Location"]
        assert location.startswith("/accounts/login/?next=")
        assert value not in location
        assert "unit" in location  # the rest of the address is kept


def test_an_address_without_identifiers_is_left_exactly_as_it_was():
    for url in ("/accounts/login/?next=/members/", "/x/?q=%E7%8E%8B&a=1&a=2", "/x/?next=/y/%3Fb%3D2"):
        assert without_identifiers(url) == url
