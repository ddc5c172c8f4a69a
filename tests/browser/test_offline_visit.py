"""A visit recorded in a home without a connection, in a real browser (Playwright's offline
mode): the draft and the photo are kept on the device encrypted (no clear text in IndexedDB),
and go to the server with the visit when the connection is back, then leave the device."""

from __future__ import annotations

import re

from django.db.models import Count

from tests.browser.checks import png_file
from unionaid.accounts.models import User
from unionaid.members.models import Member
from unionaid.members.selectors import members_visible_to
from unionaid.visits.models import Visit, VisitPhoto

SECRET = "离线走访记录：老人每周透析三次"

# Every row of the vault's drafts and photos, with its ciphertext read as text.
READ_VAULT_JS = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("unionaid-vault", 1);
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result, out = {}, names = ["drafts", "photos"];
    if (!names.every((n) => db.objectStoreNames.contains(n))) { resolve({drafts: [], photos: []}); return; }
    const tx = db.transaction(names, "readonly");
    names.forEach((name) => {
      const all = tx.objectStore(name).getAll();
      all.onsuccess = () => {
        out[name] = all.result.map((row) => ({
          keys: Object.keys(row).sort(),
          text: new TextDecoder("utf-8", {fatal: false}).decode(row.data),
          isBuffer: row.data instanceof ArrayBuffer,
        }));
      };
    });
    tx.oncomplete = () => resolve(out);
  };
})"""


def _a_member_of(username: str) -> Member:
    """A member the cadre may visit, the fewest visits first."""
    return (members_visible_to(user=User.objects.get(username=username))
            .annotate(n=Count("visits")).order_by("n", "pk").first())


def test_a_visit_recorded_offline_is_kept_encrypted_and_sent_with_its_photo(browse):
    cadre = browse("team_cadre")
    member = _a_member_of("team_cadre")
    assert member is not None, "the team cadre has members to visit"
    cadre.go(f"/visits/new/?member={member.pk}")
    page = cadre.page
    page.fill("#summary", SECRET)
    page.wait_for_function(
        "() => (document.getElementById('draft-status') || {}).textContent.includes('草稿')")

    page.context.set_offline(True)
    page.locator("input[name=photos]").set_input_files(png_file("家中照片.png"))
    page.locator("#visit-submit").click()
    page.wait_for_function(
        "() => document.getElementById('draft-status').textContent.includes('照片已加密保存')")
    vault = page.evaluate(READ_VAULT_JS)
    assert len(vault["drafts"]) == 1
    assert len(vault["photos"]) == 1
    for row in vault["drafts"] + vault["photos"]:
        assert row["keys"] == ["data", "id", "iv", "owner", "uuid"]
        assert row["isBuffer"]
        assert "透析" not in row["text"]
        assert "summary" not in row["text"]
        assert "PNG" not in row["text"]
    assert not Visit.objects.filter(member=member, summary=SECRET).exists()

    with page.expect_navigation(url=re.compile(r"/visits/\d+/$"), timeout=20_000):
        page.context.set_offline(False)  # the "online" event sends the queued visit
    cadre.check()
    visit = Visit.objects.get(member=member, summary=SECRET)
    assert visit.summary == SECRET
    assert VisitPhoto.objects.filter(visit=visit).count() == 1
    vault = page.evaluate(READ_VAULT_JS)
    assert vault == {"drafts": [], "photos": []}


KEYS_JS = """() => new Promise((resolve) => {
  const open = indexedDB.open("unionaid-vault", 1);
  open.onsuccess = () => {
    const all = open.result.transaction(["keys"], "readonly").objectStore("keys").getAll();
    all.onsuccess = () => resolve(all.result.map((row) => ({owner: row.owner,
      fields: Object.keys(row).sort(), extractable: row.device.extractable,
      type: row.device.type})));
  };
})"""


def test_logging_out_deletes_the_users_drafts_and_key_from_the_device(browse):
    cadre = browse("team_cadre")
    member = _a_member_of("team_cadre")
    cadre.go(f"/visits/new/?member={member.pk}")
    page = cadre.page
    page.fill("#summary", SECRET)
    page.wait_for_function(
        "() => (document.getElementById('draft-status') || {}).textContent.includes('草稿')")
    assert len(page.evaluate(READ_VAULT_JS)["drafts"]) == 1
    keys = page.evaluate(KEYS_JS)
    assert keys == [{"owner": str(User.objects.get(username="team_cadre").pk),
                     "fields": ["device", "owner"], "extractable": False, "type": "secret"}]

    page.once("dialog", lambda dialog: dialog.accept())  # "unsent drafts will be deleted"
    with page.expect_navigation():
        page.locator("form[data-device-logout]").evaluate("form => form.requestSubmit()")
    assert page.evaluate(READ_VAULT_JS) == {"drafts": [], "photos": []}
    assert page.evaluate(KEYS_JS) == []


OWN_SECRET_JS = """() => {
  const meta = document.querySelector('meta[name="unionaid-vault"]');
  return meta ? {owner: meta.dataset.owner, secret: meta.content} : null;
}"""


def test_after_a_session_times_out_the_next_user_of_the_browser_cannot_read_the_drafts(browse):
    cadre = browse("team_cadre")
    member = _a_member_of("team_cadre")
    owner = str(User.objects.get(username="team_cadre").pk)
    cadre.go(f"/visits/new/?member={member.pk}")
    page = cadre.page
    page.fill("#summary", SECRET)
    page.wait_for_function(
        "() => (document.getElementById('draft-status') || {}).textContent.includes('草稿')")
    assert page.evaluate(OWN_SECRET_JS)["owner"] == owner

    page.context.clear_cookies()  # the session ends without the logout form
    cadre.login("worker")  # the next person on this phone
    theirs = page.evaluate(OWN_SECRET_JS)
    assert theirs["owner"] != owner
    read = f"""async () => {{
      try {{ return await UnionaidVault.allDrafts("{owner}"); }}
      catch (e) {{ return "error: " + e.message; }}
    }}"""
    assert "locked" in page.evaluate(read)
    page.evaluate(f"() => UnionaidVault.unlock('{owner}', '{theirs['secret']}')")
    assert page.evaluate(read) == {}  # the other user's secret decrypts nothing
    vault = page.evaluate(READ_VAULT_JS)
    assert len(vault["drafts"]) == 1
    assert "透析" not in vault["drafts"][0]["text"]

    page.context.clear_cookies()
    cadre.login("team_cadre")  # the draft's owner is back: it reads again
    drafts = page.evaluate(read)
    assert len(drafts) == 1
    assert ["summary", SECRET] in next(iter(drafts.values()))["pairs"]
