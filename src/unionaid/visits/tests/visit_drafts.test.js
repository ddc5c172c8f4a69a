/* Offline drafts of js/visit-form.js are kept per user: a page lists and sends only the drafts
 * of the user it was rendered for (data-owner on #local-drafts), never another user's, and
 * leaves the other users' drafts untouched on the device.
 *
 * No browser and no npm packages: a tiny fake DOM, localStorage and fetch, and Node's vm.
 * Run by hand (CI has no Node):  node src/unionaid/visits/tests/visit_drafts.test.js
 */
"use strict";

const assert = require("assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");

const SCRIPT = path.join(__dirname, "..", "..", "static", "js", "visit-form.js");

function element(tag) {
  const el = {
    tagName: String(tag || "div").toUpperCase(), children: [], dataset: {}, className: "",
    textContent: "", href: "", type: "", disabled: false, listeners: {},
    classList: {toggle() {}, add() {}, remove() {}},
    appendChild(child) { this.children.push(child); return child; },
    addEventListener(name, fn) { this.listeners[name] = fn; },
    querySelector() { return null; },
    querySelectorAll() { return []; },
  };
  Object.defineProperty(el, "text", {
    get() { return [el.textContent].concat(el.children.map((c) => c.text)).join(" "); },
  });
  return el;
}

function run({owner, storage}) {
  const panel = element("section");
  panel.dataset = {owner: owner, submitUrl: "/visits/new/", tStateQueued: "待发送",
                   tStateEditing: "未提交", tStateError: "需修改", tSavedAt: "保存于"};
  panel.querySelector = () => ({value: "csrf"});
  const list = element("ul");
  const list_ = {"local-drafts": panel, "local-drafts-list": list};
  const sent = [];
  const store = new Map(Object.entries(storage));
  const window = {
    localStorage: {
      getItem: (k) => (store.has(k) ? store.get(k) : null),
      setItem: (k, v) => { store.set(k, String(v)); },
      removeItem: (k) => { store.delete(k); },
    },
    fetch: (url, options) => {
      sent.push(options.body.get("client_uuid"));
      return new Promise(() => {}); // never answers: only who was sent matters here
    },
    addEventListener() {},
    location: {search: "", pathname: "/visits/"},
    confirm: () => false,
  };
  const context = {
    window, document: {getElementById: (id) => list_[id] || null, createElement: element},
    navigator: {onLine: true}, FormData, URLSearchParams, Date, JSON, Object, Array, String,
  };
  vm.runInNewContext(fs.readFileSync(SCRIPT, "utf8"), context);
  return {sent, list, store};
}

function draft(uuid, label, state) {
  return {uuid, label, state, savedAt: 1, page: "/visits/new/?member=1",
          pairs: [["client_uuid", uuid], ["member_id", "1"], ["health_note", "透析"]]};
}

const KEY = "unionaid.visitDrafts.v2.";
const storage = {
  [KEY + "7"]: JSON.stringify({a1: draft("a1", "甲的走访", "queued")}),
  [KEY + "8"]: JSON.stringify({b1: draft("b1", "乙的走访", "queued"),
                               b2: draft("b2", "乙的草稿", "editing")}),
};

// user 8's page: sends and lists user 8's drafts only
let page = run({owner: "8", storage});
assert.deepStrictEqual(page.sent, ["b1"]);
assert.ok(page.list.text.includes("乙的走访"));
assert.ok(page.list.text.includes("乙的草稿"));
assert.ok(!page.list.text.includes("甲的走访"));
assert.strictEqual(page.store.get(KEY + "7"), storage[KEY + "7"]); // kept, untouched

// user 7's page: its own queued draft, nothing of user 8
page = run({owner: "7", storage});
assert.deepStrictEqual(page.sent, ["a1"]);
assert.ok(!page.list.text.includes("乙"));

// a page without an owner touches no drafts at all
page = run({owner: "", storage});
assert.deepStrictEqual(page.sent, []);
assert.strictEqual(page.list.children.length, 0);

console.log("visit drafts: ok");
