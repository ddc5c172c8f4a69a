/* Offline drafts of js/visit-form.js, kept by js/device-vault.js:
 *
 * - what is stored on the device is ciphertext (AES-GCM), never the form's values, and decrypts
 *   back to the draft; the per-user key needs the non-extractable device key AND the user's
 *   server secret: another user's secret (or none) decrypts nothing, and the owner's secret
 *   reads the records again; a first-version key is replaced and its records re-encrypted;
 * - photos taken offline are kept (encrypted) until the visit is sent with them, then removed;
 *   a failed send keeps both;
 * - drafts are kept per user: a page lists and sends only its user's drafts; logout deletes
 *   that user's drafts, photos and key and leaves the others';
 * - drafts of the old clear-text localStorage format are moved into the vault and deleted.
 *
 * No browser and no npm packages: Node's own WebCrypto, a small in-memory IndexedDB, a tiny
 * fake DOM and fetch, and Node's vm. Run: node src/unionaid/visits/tests/visit_drafts.test.js
 * (test_visit_drafts_js.py runs it under pytest when node is installed).
 */
"use strict";

const assert = require("assert");
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const {webcrypto} = require("crypto");

const STATIC = path.join(__dirname, "..", "..", "static", "js");
const SCRIPT = path.join(STATIC, "visit-form.js");

// -- an in-memory IndexedDB: the calls device-vault.js makes, asynchronous like the real one --
function fakeIndexedDB() {
  const dbs = {};
  const later = (fn) => setImmediate(fn);
  function makeDb() {
    const stores = {};
    return {
      stores,
      objectStoreNames: {contains: (n) => n in stores},
      createObjectStore(name, {keyPath}) { stores[name] = {keyPath, rows: new Map()}; },
      transaction(names, mode) {
        const tx = {};
        let pending = 0;
        const finish = () => later(() => {
          if (pending === 0 && !tx.done) { tx.done = true; if (tx.oncomplete) { tx.oncomplete(); } }
        });
        tx.objectStore = (name) => {
          const st = stores[name];
          const op = (write, fn) => {
            if (write && mode !== "readwrite") { throw new Error("ReadOnlyError"); }
            const request = {};
            pending += 1;
            later(() => {
              request.result = fn();
              pending -= 1;
              if (request.onsuccess) { request.onsuccess(); }
              finish();
            });
            return request;
          };
          return {
            put: (v) => op(true, () => { st.rows.set(v[st.keyPath], v); return v[st.keyPath]; }),
            get: (k) => op(false, () => st.rows.get(k)),
            getAll: () => op(false, () => Array.from(st.rows.values())),
            delete: (k) => op(true, () => { st.rows.delete(k); }),
          };
        };
        finish();
        return tx;
      },
    };
  }
  return {
    dbs,
    open(name) {
      const request = {};
      later(() => {
        const fresh = !dbs[name];
        if (fresh) { dbs[name] = makeDb(); }
        request.result = dbs[name];
        if (fresh && request.onupgradeneeded) { request.onupgradeneeded(); }
        if (request.onsuccess) { request.onsuccess(); }
      });
      return request;
    },
  };
}

const idb = fakeIndexedDB();
globalThis.indexedDB = idb;
if (!globalThis.crypto) { globalThis.crypto = webcrypto; }
const vault = require(path.join(STATIC, "device-vault.js"));
const rows = (store) => Array.from(idb.dbs["unionaid-vault"].stores[store].rows.values());
const bytesOf = (row) => Buffer.from(new Uint8Array(row.data));
// WebCrypto works in Node's thread pool: wait in real time, not just for queued callbacks.
const settle = async () => { for (let i = 0; i < 20; i += 1) { await new Promise((r) => setTimeout(r, 10)); } };

// -- a tiny DOM and the visit-form page --------------------------------------------------------
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

/* Load the page of `owner`; `answer` is what fetch does: "ok", "network" or "never". */
async function run({owner, answer = "never", storage = {}}) {
  const panel = element("section");
  panel.dataset = {owner: owner, submitUrl: "/visits/new/", tStateQueued: "待发送",
                   tStateEditing: "未提交", tStateError: "需修改", tSavedAt: "保存于",
                   tPhotosWaiting: "张照片待上传"};
  panel.querySelector = () => ({value: "csrf"});
  const list = element("ul");
  const byId = {"local-drafts": panel, "local-drafts-list": list};
  const sent = [];
  const store = new Map(Object.entries(storage));
  const window = {
    UnionaidVault: vault, Blob,
    localStorage: {
      getItem: (k) => (store.has(k) ? store.get(k) : null),
      setItem: (k, v) => { store.set(k, String(v)); },
      removeItem: (k) => { store.delete(k); },
    },
    fetch: (url, options) => {
      sent.push({uuid: options.body.get("client_uuid"), photos: options.body.getAll("photos")});
      if (answer === "network") { return Promise.reject(new TypeError("offline")); }
      if (answer === "ok") {
        return Promise.resolve({ok: true, redirected: false, headers: {get: () => "application/json"},
                                json: () => Promise.resolve({id: 1, url: "/visits/1/"})});
      }
      return new Promise(() => {});
    },
    addEventListener() {},
    location: {search: "", pathname: "/visits/"},
    confirm: () => false,
  };
  const context = {
    window, document: {getElementById: (id) => byId[id] || null, createElement: element},
    navigator: {onLine: true}, FormData, URLSearchParams, Date, JSON, Object, Array, String,
    Promise,
  };
  vm.runInNewContext(fs.readFileSync(SCRIPT, "utf8"), context);
  await settle();
  return {sent, list, store};
}

function draft(uuid, label, state) {
  return {uuid, label, state, savedAt: 1, page: "/visits/new/?member=1",
          pairs: [["client_uuid", uuid], ["member_id", "1"], ["health_note", "每周透析三次"]]};
}

// What the server puts in each user's pages (core.crypto.device_vault_secret): one per user.
const SECRET = {"7": "a7".repeat(32), "8": "b8".repeat(32), "9": "c9".repeat(32)};
const unlockAll = () => Object.keys(SECRET).forEach((o) => vault.unlock(o, SECRET[o]));

(async () => {
  unlockAll();
  // 1. what is stored is ciphertext, and it decrypts back
  await vault.putDraft("7", draft("a1", "甲的走访", "queued"));
  const stored = rows("drafts");
  assert.strictEqual(stored.length, 1);
  assert.deepStrictEqual(Object.keys(stored[0]).sort(), ["data", "id", "iv", "owner", "uuid"]);
  const blob = bytesOf(stored[0]);
  for (const clear of ["透析", "health_note", "甲的走访", "member_id"]) {
    assert.ok(!blob.includes(Buffer.from(clear)), "clear text on the device: " + clear);
  }
  assert.ok(!JSON.stringify(stored[0]).includes("透析"));
  assert.deepStrictEqual(await vault.allDrafts("7"), {a1: draft("a1", "甲的走访", "queued")});

  // 2. the device half of the key is per user and cannot be exported; the server's secret is
  //    not stored on the device
  const keyRow = rows("keys").find((r) => r.owner === "7");
  assert.deepStrictEqual(Object.keys(keyRow).sort(), ["device", "owner"]);
  assert.strictEqual(keyRow.device.extractable, false);
  assert.strictEqual(keyRow.device.algorithm.name, "HMAC");
  await assert.rejects(webcrypto.subtle.exportKey("raw", keyRow.device));
  assert.ok(!JSON.stringify(rows("keys")).includes(SECRET["7"]));
  assert.deepStrictEqual(await vault.allDrafts("8"), {}); // another user reads nothing

  // 2b. the device key alone is not enough: user 8's session (8's secret only) cannot read 7's
  //     records, not even by naming 7; without any secret nothing decrypts; 7's records stay
  //     on the device, ciphertext, and read again under 7's secret
  await vault.putPhoto("7", "a1", new Blob([Buffer.from("甲的照片-透析")], {type: "image/jpeg"}));
  vault._reset();
  await assert.rejects(vault.allDrafts("7"), /locked/);
  await assert.rejects(vault.photosOf("7", "a1"), /locked/);
  await assert.rejects(vault.putDraft("7", draft("x", "x", "editing")), /locked/);
  assert.strictEqual(vault.unlocked("7"), false);
  vault.unlock("8", SECRET["8"]);
  vault.unlock("7", SECRET["8"]);  // user 8 at the console, with the only secret they have
  assert.deepStrictEqual(await vault.allDrafts("7"), {});
  assert.deepStrictEqual(await vault.photosOf("7", "a1"), []);
  assert.strictEqual(await vault.pendingCount("7"), 2);  // kept, not lost
  assert.ok(!bytesOf(rows("drafts")[0]).includes(Buffer.from("透析")));
  vault.unlock("7", SECRET["7"]);  // user 7 logs in again
  assert.deepStrictEqual(await vault.allDrafts("7"), {a1: draft("a1", "甲的走访", "queued")});
  assert.strictEqual((await vault.photosOf("7", "a1")).length, 1);
  await vault.removePhotos("7", "a1");
  unlockAll();

  // 3. photos are kept encrypted and come back whole
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from("照片-透析单")]);
  await vault.putPhoto("8", "b1", new Blob([jpeg], {type: "image/jpeg"}));
  const photoRow = rows("photos")[0];
  assert.ok(!bytesOf(photoRow).includes(Buffer.from("透析单")));
  assert.ok(!bytesOf(photoRow).includes(Buffer.from("image/jpeg")));
  const [photo] = await vault.photosOf("8", "b1");
  assert.strictEqual(photo.type, "image/jpeg");
  assert.ok(Buffer.from(photo.bytes).equals(jpeg));

  // 4. user 8's page sends and lists user 8's drafts only, with their photos; a failed send
  //    keeps the draft and the photo on the device
  await vault.putDraft("8", draft("b1", "乙的走访", "queued"));
  await vault.putDraft("8", draft("b2", "乙的草稿", "editing"));
  let page = await run({owner: "8", answer: "network"});
  assert.deepStrictEqual(page.sent.map((s) => s.uuid), ["b1"]);
  assert.strictEqual(page.sent[0].photos.length, 1);
  assert.ok(page.list.text.includes("乙的走访"));
  assert.ok(page.list.text.includes("乙的草稿"));
  assert.ok(page.list.text.includes("1 张照片待上传"));
  assert.ok(!page.list.text.includes("甲的走访"));
  assert.ok("b1" in await vault.allDrafts("8"));
  assert.strictEqual((await vault.photosOf("8", "b1")).length, 1);

  // 5. back online: the draft goes with its photo, then both leave the device
  page = await run({owner: "8", answer: "ok"});
  assert.deepStrictEqual(page.sent.map((s) => s.uuid), ["b1"]);
  const upload = page.sent[0].photos[0];
  assert.strictEqual(upload.type, "image/jpeg");
  assert.ok(Buffer.from(await upload.arrayBuffer()).equals(jpeg));
  assert.ok(!("b1" in await vault.allDrafts("8")));
  assert.ok("b2" in await vault.allDrafts("8"));
  assert.deepStrictEqual(await vault.photosOf("8", "b1"), []);
  assert.strictEqual(rows("photos").length, 0);

  // 6. user 7's page: its own queued draft, nothing of user 8
  page = await run({owner: "7"});
  assert.deepStrictEqual(page.sent.map((s) => s.uuid), ["a1"]);
  assert.ok(!page.list.text.includes("乙"));

  // 7. a page without an owner touches no drafts at all
  page = await run({owner: ""});
  assert.deepStrictEqual(page.sent, []);
  assert.strictEqual(page.list.children.length, 0);

  // 8. old clear-text drafts are encrypted into the vault and deleted from localStorage
  const legacy = {"unionaid.visitDrafts.v2.9": JSON.stringify({c1: draft("c1", "旧草稿", "editing")})};
  page = await run({owner: "9", storage: legacy});
  assert.ok(!page.store.has("unionaid.visitDrafts.v2.9"));
  assert.ok(page.list.text.includes("旧草稿"));
  assert.strictEqual((await vault.allDrafts("9")).c1.label, "旧草稿");

  // 9. logout: this user's drafts, photos and device key are deleted, the others' stay
  await vault.putPhoto("7", "a1", new Blob([jpeg], {type: "image/jpeg"}));
  assert.strictEqual(await vault.pendingCount("7"), 2);
  await vault.clearOwner("7");
  assert.strictEqual(await vault.pendingCount("7"), 0);
  assert.ok(!rows("keys").some((r) => r.owner === "7"));
  assert.ok(rows("drafts").every((r) => r.owner !== "7"));
  assert.ok("b2" in await vault.allDrafts("8"));

  // 10. a vault v1 key ({owner, key}: a bare AES-GCM key) is replaced: its rows are re-encrypted
  //     under the two-part key and the old key is deleted
  const legacyKey = await webcrypto.subtle.generateKey({name: "AES-GCM", length: 256}, false,
                                                       ["encrypt", "decrypt"]);
  const iv = webcrypto.getRandomValues(new Uint8Array(12));
  const sealed = await webcrypto.subtle.encrypt({name: "AES-GCM", iv}, legacyKey,
                                               Buffer.from(JSON.stringify(draft("d1", "旧密钥", "editing"))));
  idb.dbs["unionaid-vault"].stores.keys.rows.set("6", {owner: "6", key: legacyKey});
  idb.dbs["unionaid-vault"].stores.drafts.rows.set("6:d1", {id: "6:d1", owner: "6", uuid: "d1", iv, data: sealed});
  vault.unlock("6", "d6".repeat(32));
  assert.strictEqual((await vault.allDrafts("6")).d1.label, "旧密钥");
  const row6 = rows("keys").find((r) => r.owner === "6");
  assert.deepStrictEqual(Object.keys(row6).sort(), ["device", "owner"]);
  await assert.rejects(webcrypto.subtle.decrypt({name: "AES-GCM", iv: rows("drafts").find((r) => r.owner === "6").iv},
                                                legacyKey, rows("drafts").find((r) => r.owner === "6").data));

  console.log("visit drafts: ok");
})().catch((error) => { console.error(error); process.exit(1); });
