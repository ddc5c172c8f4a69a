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


def _po_entries(path):
    """(flags, msgid, msgstr) of each live entry of a .po file (obsolete ``#~`` ones skipped)."""
    entries, flags, parts, key = [], "", {"msgid": "", "msgstr": ""}, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if key is not None:
                entries.append((flags, parts["msgid"], parts["msgstr"]))
            flags, parts, key = "", {"msgid": "", "msgstr": ""}, None
        elif line.startswith("#,"):
            flags += line
        elif line.startswith(("msgid ", "msgstr ", "msgstr[0] ", "msgid_plural ")):
            key = line.split(" ", 1)[0].replace("[0]", "").replace("_plural", "")
            if key == "msgstr" and parts["msgstr"]:
                continue  # keep the first plural form
            parts[key] += line.split(" ", 1)[1].strip().strip('"')
        elif line.startswith('"') and key is not None:
            parts[key] += line.strip().strip('"')
    return entries


def test_every_message_of_the_english_catalogue_is_translated():
    from pathlib import Path

    import unionaid

    po = Path(unionaid.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po"
    entries = [e for e in _po_entries(po) if e[1]]  # the header has an empty msgid
    assert len(entries) > 1000
    untranslated = [msgid for _flags, msgid, msgstr in entries if not msgstr]
    fuzzy = [msgid for flags, msgid, _msgstr in entries if "fuzzy" in flags]
    assert untranslated == []
    assert fuzzy == []


def test_a_decided_state_reads_as_a_state_and_the_decision_as_a_verb():
    """同意/驳回/退回补充材料 are both the approver's buttons and the states of decided steps: in
    English the button says "Approve", the timeline "Approved" (a message context tells them
    apart)."""
    from unionaid.approvals.forms import DECISIONS
    from unionaid.approvals.models import TaskStatus
    from unionaid.assistance.models import ApplicationStatus

    with translation.override("en"):
        assert [str(label) for _, label in DECISIONS] == [
            "Approve", "Reject", "Return for more documents"]
        assert [str(s.label) for s in (TaskStatus.APPROVED, TaskStatus.REJECTED,
                                       TaskStatus.RETURNED)] == [
            "Approved", "Rejected", "Returned for more documents"]
        assert str(ApplicationStatus.RETURNED.label) == "Returned for more documents"
    with translation.override("zh-hans"):
        assert str(TaskStatus.APPROVED.label) == "同意"
