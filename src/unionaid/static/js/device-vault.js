/* The device vault: what the visit form keeps on a phone (drafts, and photos taken offline),
 * encrypted, in IndexedDB. Plain JS, no build step, no CDN.
 *
 * - Each user (the "owner": the user id, nothing personal) has their own AES-GCM 256-bit key,
 *   derived (HKDF) from two halves: a NON-EXTRACTABLE device key made here with WebCrypto and
 *   kept in IndexedDB, and a per-user secret that the server puts only in that user's own pages
 *   (<meta name="unionaid-vault" data-owner content> in base.html; core.crypto.
 *   device_vault_secret). Another user on the same browser (a session that timed out and a new
 *   login) has the device key but not the first user's secret: the first user's records stay on
 *   the device, unreadable, until that user logs in again. The derived key is non-extractable.
 * - Offline: a page loaded while online keeps its secret, so drafts keep working; a page that
 *   cannot be loaded from the server has no secret, and nothing decrypts until the user is
 *   online and logged in again (the records are kept).
 * - A draft is stored as {id, owner, uuid, iv, data}: `data` is the AES-GCM ciphertext of the
 *   draft's JSON (the form's values, label, state); only random ids stay in clear.
 * - A photo is stored as {id, owner, uuid, iv, data}: the ciphertext of its name, type and
 *   bytes; it stays until the visit it belongs to is sent with it (then removed).
 * - At logout (form[data-device-logout] in base.html) the owner's drafts, photos and device key
 *   are deleted, after a confirmation when something is still unsent.
 * - Without IndexedDB or WebCrypto (an old browser, or a page not served over HTTPS, where
 *   browsers give no WebCrypto) `available()` is false and nothing is kept on the device: a
 *   visit must then be submitted online. Nothing is ever stored in clear.
 *
 * window.UnionaidVault in a browser; module.exports for the node test (visit_drafts.test.js).
 */
(function (root) {
  "use strict";

  var DB_NAME = "unionaid-vault";
  var DB_VERSION = 1;
  var STORES = ["keys", "drafts", "photos"];
  var dbPromise = null;

  function env() {
    var g = root || {};
    return {idb: g.indexedDB, subtle: g.crypto && g.crypto.subtle, crypto: g.crypto};
  }

  function available() {
    var e = env();
    return !!(e.idb && e.subtle && e.crypto.getRandomValues);
  }

  function req(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function open() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      var request = env().idb.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        STORES.forEach(function (name) {
          if (!db.objectStoreNames.contains(name)) {
            db.createObjectStore(name, {keyPath: name === "keys" ? "owner" : "id"});
          }
        });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { dbPromise = null; reject(request.error); };
    });
    return dbPromise;
  }

  /* Run fn(store) in one transaction; resolves with fn's request result once committed. */
  function withStore(name, mode, fn) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction([name], mode);
        var result;
        var request = fn(tx.objectStore(name));
        if (request) { request.onsuccess = function () { result = request.result; }; }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  /* The key of an owner needs two things: the owner's device key (an HMAC key made here,
   * NON-EXTRACTABLE, kept in IndexedDB) and the owner's server secret, which only the pages of
   * that user's own session carry (<meta name="unionaid-vault"> in base.html, read below). The
   * AES-GCM key is HKDF(input = the server secret, salt = HMAC(device key, owner)), made
   * non-extractable; it never exists as bytes in script memory. Another user of the browser has
   * the device key but not the secret; the server (or a copy of its secret) has no device key. */
  var encoder = new TextEncoder();
  var decoder = new TextDecoder();
  var secrets = {};     // {owner: server secret}, set by unlock()
  var keyCache = {};    // {owner: {secret, promise}}

  function unlock(owner, secret) {
    owner = String(owner);
    if (!owner || !secret) { return false; }
    if (keyCache[owner] && keyCache[owner].secret !== String(secret)) { delete keyCache[owner]; }
    secrets[owner] = String(secret);
    return true;
  }

  function unlocked(owner) { return !!secrets[String(owner)]; }

  function deriveKey(owner, device, secret) {
    var subtle = env().subtle;
    return Promise.all([
      subtle.sign("HMAC", device, encoder.encode("unionaid-vault/salt/v2\u0000" + owner)),
      subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]),
    ]).then(function (both) {
      return subtle.deriveKey(
        {name: "HKDF", hash: "SHA-256", salt: both[0],
         info: encoder.encode("unionaid-vault/aes-gcm/v2\u0000" + owner)},
        both[1], {name: "AES-GCM", length: 256}, false, ["encrypt", "decrypt"]);
    });
  }

  /* Vault v1 kept a bare AES-GCM key per owner ({owner, key}): its rows are re-encrypted under
   * the v2 key, then the v1 key is deleted. The new device key is written first (next to the
   * old key), so an interrupted move resumes with the same keys. */
  function migrate(owner, legacy, key) {
    function move(store) {
      return rowsOf(store, owner).then(function (rows) {
        return Promise.all(rows.map(function (row) {
          return env().subtle.decrypt({name: "AES-GCM", iv: row.iv}, legacy, row.data)
            .then(function (plain) {
              var iv = env().crypto.getRandomValues(new Uint8Array(12));
              return env().subtle.encrypt({name: "AES-GCM", iv: iv}, key, plain)
                .then(function (data) {
                  return {id: row.id, owner: row.owner, uuid: row.uuid, iv: iv, data: data};
                });
            }, function () { return null; });  // already moved, or not v1's
        }));
      }).then(function (moved) {
        moved = moved.filter(Boolean);
        if (!moved.length) { return null; }
        return withStore(store, "readwrite", function (s) {
          moved.forEach(function (row) { s.put(row); });
          return null;
        });
      });
    }
    return move("drafts").then(function () { return move("photos"); });
  }

  function keyFor(owner) {
    owner = String(owner);
    var secret = secrets[owner];
    if (!secret) {
      return Promise.reject(new Error(
        "UnionaidVault: locked: this page has no key of user " + owner + " (log in as that user)"));
    }
    if (keyCache[owner] && keyCache[owner].secret === secret) { return keyCache[owner].promise; }
    var promise = withStore("keys", "readonly", function (s) { return s.get(owner); })
      .then(function (row) {
        if (row && row.device && !row.key) { return deriveKey(owner, row.device, secret); }
        var made = row && row.device ? Promise.resolve(row.device)
          : env().subtle.generateKey({name: "HMAC", hash: "SHA-256", length: 256}, false,
                                     ["sign"]);
        return made.then(function (device) {
          var fresh = {owner: owner, device: device};
          if (row && row.key) { fresh.key = row.key; }
          return withStore("keys", "readwrite", function (s) { return s.put(fresh); })
            .then(function () { return deriveKey(owner, device, secret); })
            .then(function (key) {
              if (!fresh.key) { return key; }
              return migrate(owner, fresh.key, key).then(function () {
                return withStore("keys", "readwrite", function (s) {
                  return s.put({owner: owner, device: device});
                });
              }).then(function () { return key; });
            });
        });
      });
    keyCache[owner] = {secret: secret, promise: promise};
    promise.catch(function () {
      if (keyCache[owner] && keyCache[owner].promise === promise) { delete keyCache[owner]; }
    });
    return promise;
  }

  function seal(owner, bytes) {
    var iv = env().crypto.getRandomValues(new Uint8Array(12));
    return keyFor(owner).then(function (key) {
      return env().subtle.encrypt({name: "AES-GCM", iv: iv}, key, bytes);
    }).then(function (data) { return {iv: iv, data: data}; });
  }

  function open_(owner, row) {
    return keyFor(owner).then(function (key) {
      return env().subtle.decrypt({name: "AES-GCM", iv: row.iv}, key, row.data);
    });
  }

  function id(owner, uuid) { return String(owner) + ":" + uuid; }

  // -- drafts ----------------------------------------------------------------------------------
  function putDraft(owner, draft) {
    return seal(owner, encoder.encode(JSON.stringify(draft))).then(function (box) {
      return withStore("drafts", "readwrite", function (s) {
        return s.put({id: id(owner, draft.uuid), owner: String(owner), uuid: draft.uuid,
                      iv: box.iv, data: box.data});
      });
    });
  }

  function rowsOf(store, owner) {
    return withStore(store, "readonly", function (s) { return s.getAll(); })
      .then(function (rows) {
        return (rows || []).filter(function (r) { return r.owner === String(owner); });
      });
  }

  /* {uuid: draft} of this owner; a row that does not decrypt (its key is gone, or the secret is
   * not this owner's) is left out, and left on the device. Rejects when the owner is locked. */
  function allDrafts(owner) {
    return keyFor(owner).then(function () { return rowsOf("drafts", owner); }).then(function (rows) {
      return Promise.all(rows.map(function (row) {
        return open_(owner, row).then(function (plain) {
          return JSON.parse(decoder.decode(plain));
        }, function () { return null; });
      }));
    }).then(function (drafts) {
      var out = {};
      drafts.forEach(function (d) { if (d && d.uuid) { out[d.uuid] = d; } });
      return out;
    });
  }

  function removeDraft(owner, uuid) {
    return withStore("drafts", "readwrite", function (s) { return s.delete(id(owner, uuid)); });
  }

  // -- photos ----------------------------------------------------------------------------------
  function readBytes(file) {
    if (file.arrayBuffer) { return file.arrayBuffer(); }
    return new Promise(function (resolve, reject) {
      var reader = new root.FileReader();
      reader.onload = function () { resolve(reader.result); };
      reader.onerror = function () { reject(reader.error); };
      reader.readAsArrayBuffer(file);
    });
  }

  /* Keep one photo of draft `uuid`: its name, type and bytes, encrypted together. */
  function putPhoto(owner, uuid, file) {
    return readBytes(file).then(function (buffer) {
      var head = encoder.encode(JSON.stringify({name: file.name || "photo.jpg",
                                                type: file.type || "image/jpeg"}));
      var bytes = new Uint8Array(4 + head.length + buffer.byteLength);
      new DataView(bytes.buffer).setUint32(0, head.length);
      bytes.set(head, 4);
      bytes.set(new Uint8Array(buffer), 4 + head.length);
      return seal(owner, bytes);
    }).then(function (box) {
      var photoId = id(owner, uuid) + ":" + Date.now() + ":" + Math.random().toString(36).slice(2);
      return withStore("photos", "readwrite", function (s) {
        return s.put({id: photoId, owner: String(owner), uuid: uuid, iv: box.iv, data: box.data});
      }).then(function () { return photoId; });
    });
  }

  /* [{id, name, type, bytes}] of draft `uuid`, decrypted. */
  function photosOf(owner, uuid) {
    return keyFor(owner).then(function () { return rowsOf("photos", owner); }).then(function (rows) {
      rows = rows.filter(function (r) { return r.uuid === uuid; })
        .sort(function (a, b) { return a.id < b.id ? -1 : 1; });
      return Promise.all(rows.map(function (row) {
        return open_(owner, row).then(function (plain) {
          var bytes = new Uint8Array(plain);
          var size = new DataView(bytes.buffer).getUint32(0);
          var head = JSON.parse(decoder.decode(bytes.slice(4, 4 + size)));
          return {id: row.id, name: head.name, type: head.type, bytes: bytes.slice(4 + size)};
        }, function () { return null; });
      }));
    }).then(function (list) { return list.filter(Boolean); });
  }

  /* {uuid: number of photos waiting} of this owner (no decryption needed). */
  function photoCounts(owner) {
    return rowsOf("photos", owner).then(function (rows) {
      var counts = {};
      rows.forEach(function (r) { counts[r.uuid] = (counts[r.uuid] || 0) + 1; });
      return counts;
    });
  }

  function removePhotos(owner, uuid) {
    return rowsOf("photos", owner).then(function (rows) {
      var ids = rows.filter(function (r) { return r.uuid === uuid; })
        .map(function (r) { return r.id; });
      if (!ids.length) { return null; }
      return withStore("photos", "readwrite", function (s) {
        ids.forEach(function (photoId) { s.delete(photoId); });
        return null;
      });
    });
  }

  /* Logout: this owner's drafts, photos and key are deleted from the device. */
  function clearOwner(owner) {
    owner = String(owner);
    delete keyCache[owner];
    return Promise.all(["drafts", "photos"].map(function (store) {
      return rowsOf(store, owner).then(function (rows) {
        if (!rows.length) { return null; }
        return withStore(store, "readwrite", function (s) {
          rows.forEach(function (r) { s.delete(r.id); });
          return null;
        });
      });
    })).then(function () {
      return withStore("keys", "readwrite", function (s) { return s.delete(owner); });
    });
  }

  function pendingCount(owner) {
    return Promise.all([rowsOf("drafts", owner), rowsOf("photos", owner)])
      .then(function (both) { return both[0].length + both[1].length; });
  }

  var api = {
    available: available, unlock: unlock, unlocked: unlocked, putDraft: putDraft, allDrafts: allDrafts, removeDraft: removeDraft,
    putPhoto: putPhoto, photosOf: photosOf, photoCounts: photoCounts,
    removePhotos: removePhotos, clearOwner: clearOwner, pendingCount: pendingCount,
    _reset: function () { dbPromise = null; keyCache = {}; secrets = {}; },
  };

  // -- this page's user: the secret the server put in the page unlocks that user's records --
  if (root && root.document && root.document.querySelector) {
    var meta = root.document.querySelector('meta[name="unionaid-vault"]');
    if (meta && meta.dataset) { unlock(meta.dataset.owner, meta.getAttribute("content")); }
  }

  // -- logout: clear this user's drafts and photos ----------------------------------------------
  if (root && root.document && root.document.addEventListener) {
    root.document.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form || !form.dataset || form.dataset.deviceLogout === undefined
          || form.dataset.cleared === "1" || !available()) { return; }
      event.preventDefault();
      var owner = form.dataset.owner;
      pendingCount(owner).then(function (n) {
        if (n > 0 && !root.confirm(form.dataset.tConfirm || "")) { return false; }
        return clearOwner(owner).then(function () { return true; });
      }, function () { return true; }).then(function (go) {
        if (!go) { return; }
        form.dataset.cleared = "1";
        form.submit();
      }, function () { form.dataset.cleared = "1"; form.submit(); });
    });
  }

  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  if (root) { root.UnionaidVault = api; }
})(typeof window !== "undefined" ? window : (typeof globalThis !== "undefined" ? globalThis : null));
