/* The visit form (走访记录), built for a phone in a worker's home with a bad connection.
 *
 * - Every input is saved on the device as a draft ("草稿已加密保存在本机"), keyed by the draft's
 *   client_uuid, generated here when the form opens. Drafts are kept ENCRYPTED in IndexedDB by
 *   js/device-vault.js (AES-GCM, a per-user key made of a non-extractable device key and the
 *   user's server secret from the page): what is stored is ciphertext. A page without that
 *   user's secret (vault.unlocked(OWNER) false) keeps nothing, like a page without the vault.
 *   Drafts of the old clear-text localStorage format are moved into the vault and deleted.
 * - Drafts are kept per user (the "owner", data-owner of #local-drafts: the user id, nothing
 *   personal), each with their own key. A page lists and sends only its user's drafts; logging
 *   out deletes that user's drafts, photos and key from the device (device-vault.js).
 * - Submitting sends the form with fetch (header X-Visit-Draft: 1, JSON answer). Offline or on a
 *   network failure the draft stays queued and is sent again on the "online" event and on the
 *   next page load. The server is idempotent by client_uuid: a repeat never makes a second visit.
 * - Photos chosen while offline are kept encrypted in the vault with their draft and sent with
 *   it when the connection is back; they are removed from the device once the visit is saved.
 *   The list says how many photos each draft still has waiting.
 * - Without the vault (no IndexedDB / WebCrypto, e.g. a page not served over HTTPS) nothing is
 *   kept on the device and the page says so: the visit must be submitted online.
 * - Rows (household members, incomes, schooling, needs, follow-ups) are added and removed from
 *   <template data-row-template="…"> and a live preview mirrors visits.profile.derive().
 * Without this script the form is a plain POST and works the same.
 */
(function () {
  "use strict";

  var panel = document.getElementById("local-drafts");
  if (!panel || !panel.dataset.owner) { return; }
  var KEY = "unionaid.visitDrafts.v2." + panel.dataset.owner;
  var form = document.getElementById("visit-form");
  var statusBox = document.getElementById("draft-status");
  var errorBox = document.getElementById("visit-error");
  var submitUrl = panel.dataset.submitUrl;
  var sending = {};
  var sentNow = []; // sent in the background from this page: [{label, url}]

  function t(name) { return panel.dataset["t" + name] || ""; }

  // -- storage (encrypted, js/device-vault.js) ---------------------------------------------
  var OWNER = panel.dataset.owner;
  var vault = window.UnionaidVault;
  var canKeep = !!(vault && vault.available() && vault.unlocked(OWNER));
  var cache = {};       // {uuid: draft}, decrypted, of this owner
  var photoCount = {};  // {uuid: photos waiting on the device}

  function loadAll() { return cache; }
  function persist(draft) {
    return canKeep ? vault.putDraft(OWNER, draft) : Promise.reject(new Error("no vault"));
  }
  function putDraft(draft) {
    cache[draft.uuid] = draft;
    return persist(draft);
  }
  function removeDraft(uuid) {
    delete cache[uuid];
    delete photoCount[uuid];
    if (!canKeep) { return Promise.resolve(); }
    return Promise.all([vault.removeDraft(OWNER, uuid), vault.removePhotos(OWNER, uuid)]);
  }
  function keepPhotos(uuid, files) {
    if (!canKeep || !files || !files.length) { return Promise.resolve(0); }
    return Promise.all(Array.prototype.map.call(files, function (f) {
      return vault.putPhoto(OWNER, uuid, f);
    })).then(function (ids) {
      photoCount[uuid] = (photoCount[uuid] || 0) + ids.length;
      return ids.length;
    });
  }
  /* Add the photos kept on the device for `uuid` to a request body. */
  function withKeptPhotos(body, uuid) {
    if (!canKeep || !photoCount[uuid]) { return Promise.resolve(body); }
    return vault.photosOf(OWNER, uuid).then(function (photos) {
      photos.forEach(function (p) {
        body.append("photos", new window.Blob([p.bytes], {type: p.type}), p.name);
      });
      return body;
    }, function () { return body; });
  }
  /* Drafts saved by the earlier, clear-text version of this page: encrypt, then delete. */
  var LEGACY_KEY = "unionaid.visitDrafts.v2." + OWNER;
  function migrateLegacy() {
    var raw = null;
    try { raw = window.localStorage.getItem(LEGACY_KEY); } catch (e) { raw = null; }
    if (!raw || !canKeep) { return Promise.resolve(); }
    var old = {};
    try { old = JSON.parse(raw) || {}; } catch (e) { old = {}; }
    return Promise.all(Object.keys(old).map(function (uuid) {
      return vault.putDraft(OWNER, old[uuid]);
    })).then(function () { window.localStorage.removeItem(LEGACY_KEY); });
  }
  var ready = canKeep
    ? migrateLegacy().then(function () {
      return Promise.all([vault.allDrafts(OWNER), vault.photoCounts(OWNER)]);
    }).then(function (both) { cache = both[0]; photoCount = both[1]; },
            function () { canKeep = false; })
    : Promise.resolve();

  function newUuid() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    if (window.crypto && window.crypto.getRandomValues) {
      var b = new Uint8Array(16);
      window.crypto.getRandomValues(b);
      b[6] = (b[6] & 0x0f) | 0x40;
      b[8] = (b[8] & 0x3f) | 0x80;
      var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
      return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
    }
    return null; // keep the server's value
  }

  function csrfToken() {
    var input = (form && form.querySelector("[name=csrfmiddlewaretoken]")) ||
      panel.querySelector("[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function showStatus(text, kind) {
    if (!statusBox) { return; }
    statusBox.textContent = text;
    statusBox.className = "alert py-2 small alert-" + (kind || "secondary");
  }

  // -- sending ---------------------------------------------------------------------------------
  function bodyFromPairs(pairs) {
    var body = new FormData();
    pairs.forEach(function (p) {
      if (p[0] !== "csrfmiddlewaretoken") { body.append(p[0], p[1]); }
    });
    body.append("csrfmiddlewaretoken", csrfToken());
    return body;
  }

  /* Resolves to {ok, json, network, login}. */
  function send(body) {
    return window.fetch(submitUrl, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-Visit-Draft": "1", "X-CSRFToken": csrfToken(), "Accept": "application/json"}
    }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") === -1 || resp.redirected) {
        return {ok: false, login: true};
      }
      return resp.json().then(function (json) { return {ok: resp.ok, json: json}; });
    }, function () { return {ok: false, network: true}; });
  }

  function markDraft(uuid, state, message) {
    var draft = cache[uuid];
    if (!draft) { return Promise.resolve(); }
    draft.state = state;
    draft.message = message || "";
    return persist(draft).catch(function () { return null; });
  }

  function flushQueue() {
    if (!navigator.onLine) { return; }
    var drafts = loadAll();
    Object.keys(drafts).forEach(function (uuid) {
      var draft = drafts[uuid];
      if (draft.state !== "queued" || sending[uuid]) { return; }
      sending[uuid] = true;
      withKeptPhotos(bodyFromPairs(draft.pairs), uuid).then(send).then(function (result) {
        delete sending[uuid];
        if (result.ok && result.json) {
          removeDraft(uuid);  // and its photos: the visit has them now
          // the visit open on this page was sent in the background: show it
          if (form && form.elements.client_uuid && form.elements.client_uuid.value === uuid) {
            window.location.assign(result.json.url);
            return;
          }
          sentNow.push({label: draft.label || "", url: result.json.url});
        }
        else if (result.json) { markDraft(uuid, "error", result.json.message); }
        else if (result.login) { markDraft(uuid, "queued", t("Login")); }
        renderList();
      });
    });
  }

  // -- the list of unsent visits ---------------------------------------------------------------
  function renderList() {
    var list = document.getElementById("local-drafts-list");
    var current = form && form.elements.client_uuid ? form.elements.client_uuid.value : "";
    var drafts = loadAll();
    var uuids = Object.keys(drafts).filter(function (u) { return u !== current; })
      .sort(function (a, b) { return (drafts[b].savedAt || 0) - (drafts[a].savedAt || 0); });
    list.textContent = "";
    panel.classList.toggle("d-none", uuids.length === 0 && sentNow.length === 0);
    sentNow.forEach(function (sent) {
      var li = document.createElement("li");
      li.className = "list-group-item px-0 d-flex flex-wrap align-items-center gap-2 draft-sent";
      var badge = document.createElement("span");
      badge.className = "badge draft-state text-bg-success";
      badge.textContent = t("StateSent");
      var text = document.createElement("span");
      text.className = "flex-grow-1";
      text.textContent = sent.label;
      var view = document.createElement("a");
      view.className = "btn btn-sm btn-outline-primary";
      view.href = sent.url;
      view.textContent = t("View");
      li.appendChild(badge);
      li.appendChild(text);
      li.appendChild(view);
      list.appendChild(li);
    });
    uuids.forEach(function (uuid) {
      var d = drafts[uuid];
      var li = document.createElement("li");
      li.className = "list-group-item px-0 d-flex flex-wrap align-items-center gap-2";
      var badge = document.createElement("span");
      badge.className = "badge draft-state " + (d.state === "error" ? "text-bg-danger" : d.state === "queued" ? "text-bg-warning" : "text-bg-secondary");
      badge.textContent = d.state === "error" ? t("StateError") : d.state === "queued" ? t("StateQueued") : t("StateEditing");
      var text = document.createElement("span");
      text.className = "flex-grow-1";
      text.textContent = (d.label || "") + " · " + t("SavedAt") + " " + new Date(d.savedAt || 0).toLocaleString();
      if (photoCount[uuid]) {
        var photos = document.createElement("span");
        photos.className = "badge text-bg-light border ms-1 draft-photos";
        photos.textContent = String(photoCount[uuid]) + " " + t("PhotosWaiting");
        text.appendChild(photos);
      }
      if (d.message) {
        var msg = document.createElement("div");
        msg.className = "small text-danger";
        msg.textContent = d.message;
        text.appendChild(msg);
      }
      li.appendChild(badge);
      li.appendChild(text);
      var edit = document.createElement("a");
      edit.className = "btn btn-sm btn-outline-primary";
      edit.textContent = t("Edit");
      edit.href = (d.page || submitUrl) + ((d.page || "").indexOf("?") === -1 ? "?" : "&") + "draft=" + encodeURIComponent(uuid);
      li.appendChild(edit);
      if (d.state !== "error") {
        var now = document.createElement("button");
        now.type = "button";
        now.className = "btn btn-sm btn-outline-success";
        now.textContent = t("Send");
        now.addEventListener("click", function () {
          markDraft(uuid, "queued").then(function () { flushQueue(); renderList(); });
        });
        li.appendChild(now);
      }
      var del = document.createElement("button");
      del.type = "button";
      del.className = "btn btn-sm btn-outline-danger";
      del.textContent = t("Delete");
      del.addEventListener("click", function () {
        if (window.confirm(t("ConfirmDelete"))) { removeDraft(uuid).then(renderList, renderList); }
      });
      li.appendChild(del);
      list.appendChild(li);
    });
  }

  window.addEventListener("online", function () { ready.then(flushQueue); });
  ready.then(function () { renderList(); flushQueue(); });

  if (!form) { return; }

  // -- rows ------------------------------------------------------------------------------------
  function nextIndex(section) {
    var max = -1;
    form.querySelectorAll('[data-rows="' + section + '"] [data-row]').forEach(function (row) {
      max = Math.max(max, parseInt(row.dataset.index, 10) || 0);
    });
    return max + 1;
  }
  function addRow(section, index) {
    var template = form.querySelector('template[data-row-template="' + section + '"]');
    var box = form.querySelector('[data-rows="' + section + '"]');
    if (!template || !box) { return null; }
    var i = index === undefined ? nextIndex(section) : index;
    var html = template.innerHTML.replace(/__i__/g, String(i));
    box.insertAdjacentHTML("beforeend", html);
    return box.lastElementChild;
  }
  form.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var row = addRow(add.dataset.addRow);
      if (row) { var first = row.querySelector("input, select"); if (first) { first.focus(); } }
      changed();
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var r = remove.closest("[data-row]");
      if (r) { r.remove(); changed(); }
    }
  });

  // -- live preview (mirrors visits.profile.derive) ---------------------------------------------
  function money(value) {
    var n = parseFloat(String(value || "").replace(/[,，\s]/g, ""));
    return isFinite(n) && n > 0 ? n : 0;
  }
  function fmt(n) { return n.toLocaleString("zh-CN", {minimumFractionDigits: 2, maximumFractionDigits: 2}); }
  function preview() {
    var out = form.querySelector('[data-preview="per_capita"]');
    if (!out) { return; }
    var size = 0;
    form.querySelectorAll("[data-person-name]").forEach(function (i) { if (i.value.trim()) { size += 1; } });
    size = Math.max(1, size);
    var monthly = 0;
    form.querySelectorAll("[data-monthly]").forEach(function (i) { monthly += money(i.value); });
    var annual = monthly * 12;
    var rigid = 0;
    form.querySelectorAll("[data-rigid]").forEach(function (i) { rigid += money(i.value); });
    var perCapita = Math.round(Math.max(0, annual - rigid) / 12 / size * 100) / 100;
    out.textContent = fmt(perCapita);
    form.querySelector('[data-preview="annual"]').textContent = fmt(annual);
    form.querySelector('[data-preview="rigid"]').textContent = fmt(rigid);
    form.querySelector('[data-preview="size"]').textContent = String(size);
  }

  // -- consents the profile needs (mirrors visits.profile.needs_*_consent) ------------------------
  function rowOf(el) { return el.closest("[data-row]"); }
  function namedRows() {
    var rows = [];
    form.querySelectorAll("[data-person-name]").forEach(function (i) {
      if (i.value.trim()) { rows.push(rowOf(i)); }
    });
    return rows;
  }
  function field(row, suffix) {
    var el = row.querySelector('[name$="-' + suffix + '"]');
    return el ? el.value : "";
  }
  function needsHealth() {
    var ticked = ["health_major_illness", "health_chronic", "health_disability"].some(function (n) {
      return form.elements[n] && form.elements[n].checked;
    });
    var note = form.elements.health_note && form.elements.health_note.value.trim();
    var medical = form.elements.expenses_medical_annual && money(form.elements.expenses_medical_annual.value) > 0;
    var person = namedRows().some(function (row) { var h = field(row, "health"); return h && h !== "healthy"; });
    var healthCauses = (form.dataset.healthCauses || "").split(" ");
    var cause = Array.prototype.some.call(form.querySelectorAll("input[name=causes]:checked"), function (c) {
      return healthCauses.indexOf(c.value) !== -1;
    });
    var lossKind = form.elements.sudden_loss_kind ? form.elements.sudden_loss_kind.value : "";
    var loss = !!lossKind && (form.dataset.healthLossKinds || "").split(" ").indexOf(lossKind) !== -1;
    return ticked || !!note || medical || person || cause || loss;
  }
  function needsChildren() {
    return namedRows().some(function (row) {
      var relation = field(row, "relation");
      var age = parseInt(field(row, "age"), 10);
      return (relation === "child" || relation === "grandchild") && isFinite(age) && age < 14;
    });
  }
  /* The consent boxes still to tick: [{name, hint}] (a box already given is not on the form). */
  function missingConsents() {
    var missing = [];
    [["health", needsHealth()], ["children", needsChildren()]].forEach(function (pair) {
      var box = form.elements["consent_" + pair[0]];
      var hint = form.querySelector('[data-consent-hint="' + pair[0] + '"]');
      var need = pair[1] && box && !box.checked;
      if (hint) { hint.classList.toggle("d-none", !need); }
      if (need) { missing.push({name: "consent_" + pair[0], hint: hint ? hint.textContent : ""}); }
    });
    return missing;
  }

  // -- drafts of this form ---------------------------------------------------------------------
  function pairsOf() {
    var pairs = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "file" || el.name === "csrfmiddlewaretoken") { return; }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { return; }
      if (el.tagName === "BUTTON") { return; }
      pairs.push([el.name, el.value]);
    });
    return pairs;
  }
  function pageUrl() {
    var params = new URLSearchParams(window.location.search);
    params.delete("draft");
    var query = params.toString();
    return window.location.pathname + (query ? "?" + query : "");
  }
  /* Save this form as a draft. Without an explicit state a queued draft stays queued (edited
   * after "submit" while offline: it is still to be sent), anything else is "editing". */
  function saveDraft(state, message) {
    var uuid = form.elements.client_uuid.value;
    var before = cache[uuid];
    var keep = before && before.state === "queued" ? "queued" : "editing";
    return putDraft({uuid: uuid, label: form.dataset.label + " · " + (form.elements.visited_on ? form.elements.visited_on.value : ""),
                     savedAt: Date.now(), page: pageUrl(), pairs: pairsOf(),
                     state: state || keep, message: message || ""});
  }
  var timer = null;
  function changed() {
    preview();
    missingConsents();
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      ready.then(function () {
        if (!canKeep) { showStatus(t("NoVault"), "warning"); return; }
        saveDraft().then(function () {
          var queued = cache[form.elements.client_uuid.value].state === "queued";
          showStatus(queued ? t("Queued") : t("Saved"), queued ? "warning" : "secondary");
        }, function () { showStatus(t("SaveFailed"), "danger"); });
      });
    }, 300);
  }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);

  function restore(draft) {
    var values = {};
    draft.pairs.forEach(function (p) { (values[p[0]] = values[p[0]] || []).push(p[1]); });
    // rebuild the repeating rows with the draft's indexes
    form.querySelectorAll("[data-rows]").forEach(function (box) {
      var section = box.dataset.rows;
      box.textContent = "";
      var indexes = {};
      Object.keys(values).forEach(function (name) {
        var m = name.match(/^([a-z_]+)-(\d+)-/);
        if (m && m[1] === section) { indexes[m[2]] = true; }
      });
      var list = Object.keys(indexes).map(Number).sort(function (a, b) { return a - b; });
      if (list.length === 0) { list = [0]; }
      list.forEach(function (i) { addRow(section, i); });
    });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrfmiddlewaretoken") { return; }
      var v = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = !!v && v.indexOf(el.value) !== -1;
      } else if (el.tagName !== "BUTTON") {
        el.value = v ? v[0] : "";
      }
    });
  }

  var params = new URLSearchParams(window.location.search);
  var wanted = params.get("draft");
  if (form.dataset.fresh === "1" && !wanted) {
    var uuid = newUuid();
    if (uuid) { form.elements.client_uuid.value = uuid; }
  }
  preview();
  missingConsents();
  ready.then(function () {
    var drafts = loadAll();
    if (wanted && drafts[wanted]) {
      restore(drafts[wanted]);
      if (drafts[wanted].message) { showError(drafts[wanted].message, {}); }
      preview();
      missingConsents();
    } else if (wanted && form.dataset.fresh === "1") {
      var fresh = newUuid();
      if (fresh) { form.elements.client_uuid.value = fresh; }
    }
    renderList();
  });

  // -- submit ----------------------------------------------------------------------------------
  function clearErrors() {
    form.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
    form.querySelectorAll(".js-feedback").forEach(function (el) { el.remove(); });
    errorBox.classList.add("d-none");
  }
  function showError(message, fields) {
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
    Object.keys(fields || {}).forEach(function (name) {
      var el = form.elements[name];
      if (el && el.length !== undefined && !el.tagName) { el = el[0]; }
      if (!el || !el.classList) { return; }
      el.classList.add("is-invalid");
      if (!fields[name]) { return; } // the hint under the field already says why
      var note = document.createElement("div");
      note.className = "invalid-feedback d-block js-feedback";
      note.textContent = fields[name];
      (el.closest(".input-group") || el).insertAdjacentElement("afterend", note);
    });
    errorBox.focus();
  }

  var button = document.getElementById("visit-submit");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    clearErrors();
    var hasPhotos = form.elements.photos && form.elements.photos.files && form.elements.photos.files.length > 0;
    // Asked now, while the worker is still there: a draft queued without a needed consent
    // would only be refused once the connection is back.
    var missing = missingConsents();
    if (missing.length) {
      saveDraft().catch(function () { return null; });
      var fields = {};
      missing.forEach(function (m) { fields[m.name] = ""; });
      showError(form.dataset.consentMissing + " " + missing.map(function (m) { return m.hint; }).join(" "), fields);
      return;
    }
    var uuid = form.elements.client_uuid.value;
    var files = hasPhotos ? Array.prototype.slice.call(form.elements.photos.files) : [];
    /* Keep the draft (and its photos) on the device until the server has them. */
    function queue() {
      if (!canKeep) { showStatus(t("NoVault"), "warning"); return Promise.resolve(); }
      return saveDraft("queued").then(function () {
        return keepPhotos(uuid, files);
      }).then(function (kept) {
        if (kept && form.elements.photos) { form.elements.photos.value = ""; files = []; }
        showStatus(t("Queued") + (kept ? " " + t("PhotosKept") : ""), "warning");
        renderList();
      }, function () { showStatus(t("SaveFailed"), "danger"); });
    }
    ready.then(function () {
      if (!navigator.onLine) { queue(); return; }
      button.disabled = true;
      showStatus(t("Sending"), "info");
      if (canKeep) { saveDraft("queued").catch(function () { return null; }); }
      withKeptPhotos(new FormData(form), uuid).then(send).then(function (result) {
        button.disabled = false;
        if (result.ok && result.json && result.json.url) {
          removeDraft(uuid).then(function () {
            showStatus(t("Sent"), "success");
            window.location.assign(result.json.url);
          });
        } else if (result.json) {
          markDraft(uuid, "editing");
          showStatus(t("Saved"), "secondary");
          showError(result.json.message, result.json.fields);
        } else if (result.login) {
          queue().then(function () { showStatus(t("Login"), "warning"); });
        } else {
          queue();
        }
      });
    });
  });
})();
