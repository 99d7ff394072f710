// Every villager page: nothing a villager sends is lost, nothing is stored twice.
// - The outbox (IndexedDB) holds each note until the server has it; it is sent with an
//   Idempotency-Key, so a retry after a lost answer returns the first receipt instead of a copy.
// - "我的建议" (localStorage) remembers every tracking code this phone got, with its link.
// Plain ES2017, no build step; words come from data-msg-* attributes in the page's language.
(function () {
  "use strict";
  var DB = "minsheng", STORE = "outbox", MINE = "minsheng.mine", MAX_MINE = 50;
  var CODE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/, LINK = /^\/track\/[A-Z0-9]{4}-[A-Z0-9]{4}\/[A-Za-z0-9_-]{1,100}$/;
  var box = document.getElementById("mine");
  var sending = {};  // ids being sent by this page right now

  function words(key) { return (box && box.dataset[key]) || ""; }

  // --- IndexedDB outbox ---------------------------------------------------------------------------
  function open() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "id" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function withStore(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode), result;
        var req = work(tx.objectStore(STORE));
        if (req) { req.onsuccess = function () { result = req.result; }; }
        tx.oncomplete = function () { db.close(); resolve(result); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  var outbox = {
    put: function (item) { return withStore("readwrite", function (s) { return s.put(item); }); },
    remove: function (id) { return withStore("readwrite", function (s) { return s["delete"](id); }); },
    all: function () {
      return withStore("readonly", function (s) { return s.getAll(); }).catch(function () { return []; });
    },
  };

  function newKey() {  // 128 random bits; crypto.randomUUID needs https, this does not
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return "note-" + Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- 我的建议 -------------------------------------------------------------------------------------
  function mine() {
    try {
      var list = JSON.parse(localStorage.getItem(MINE) || "[]");
      return Array.isArray(list) ? list.filter(function (m) { return m && CODE.test(m.code); }) : [];
    } catch (e) { return []; }
  }

  function remember(code, key) {
    if (!CODE.test(code)) { return; }
    var link = "/track/" + code + "/" + encodeURIComponent(key || "");
    var list = mine().filter(function (m) { return m.code !== code; });
    list.unshift({ code: code, link: LINK.test(link) ? link : "/track/" + code, at: Date.now() });
    try { localStorage.setItem(MINE, JSON.stringify(list.slice(0, MAX_MINE))); } catch (e) { /* full */ }
  }

  function entry(parts) {
    var li = document.createElement("li");
    parts.forEach(function (p) { li.appendChild(p); });
    return li;
  }

  function text(value, cls) {
    var span = document.createElement("span");
    span.textContent = value;
    if (cls) { span.className = cls; }
    return span;
  }

  function render() {
    if (!box) { return Promise.resolve(); }
    return outbox.all().then(function (waiting) {
      var list = document.getElementById("mine-list");
      list.textContent = "";
      waiting.sort(function (a, b) { return b.created - a.created; }).forEach(function (item) {
        var what = item.fields.text ? item.fields.text.slice(0, 30) : words("msgVoice");
        var li = entry([text(item.refused ? words("msgRefused") + item.refused : words("msgWaiting"), "pending"),
          text(" " + what)]);
        li.className = "waiting";
        if (item.refused) {
          var drop = document.createElement("button");
          drop.type = "button";
          drop.textContent = words("msgDelete");
          drop.addEventListener("click", function () { outbox.remove(item.id).then(render); });
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
      mine().forEach(function (m) {
        var a = document.createElement("a");
        a.href = LINK.test(m.link) ? m.link : "/track/" + m.code;
        a.className = "tracking-code small";
        a.textContent = m.code;
        var when = text(" " + new Date(m.at).toLocaleDateString(document.documentElement.lang), "muted");
        list.appendChild(entry([a, when]));
      });
      document.getElementById("mine-empty").hidden = list.children.length > 0;
    });
  }

  // --- sending ------------------------------------------------------------------------------------
  // Resolves {sent: receipt} | {offline: true} (keep it, try later) | {refused: message} (will not go).
  function send(item) {
    var data = new FormData();
    Object.keys(item.fields).forEach(function (k) { if (item.fields[k]) { data.append(k, item.fields[k]); } });
    if (item.audio) { data.append("audio", item.audio, item.name || "note.webm"); }
    data.append("language", "auto");
    sending[item.id] = true;
    return fetch("/api/v1/suggestions", {
      method: "POST", body: data,
      // A refusal's detail comes back in the page's language (api/i18n.py reads Accept-Language).
      headers: { "Accept": "application/json", "Accept-Language": document.documentElement.lang || "zh-CN", "Idempotency-Key": item.id },
    }).then(function (r) {
      if (r.status >= 500 || r.status === 429 || r.status === 408) { return { offline: true }; }
      return r.json().then(function (body) {
        return r.ok ? { sent: body } : { refused: body.detail || String(r.status) };
      }, function () { return r.ok ? { offline: true } : { refused: String(r.status) }; });
    }, function () { return { offline: true }; }).then(function (result) {
      delete sending[item.id];
      if (result.sent) {
        remember(result.sent.tracking_code, result.sent.rating_key);
        return outbox.remove(item.id).then(function () { return result; });
      }
      return result;
    });
  }

  function announce(message) {
    var line = document.getElementById("mine-status");
    if (line) { line.textContent = message; }
  }

  var flushing = false;
  function flush() {  // send what waits, oldest first; stop at the first sign of no connection
    if (flushing) { return Promise.resolve(); }
    flushing = true;
    return outbox.all().then(function (waiting) {
      var due = waiting.filter(function (i) { return !i.refused && !sending[i.id]; })
        .sort(function (a, b) { return a.created - b.created; });
      var chain = Promise.resolve(false);
      due.forEach(function (item) {
        chain = chain.then(function (stop) {
          if (stop) { return true; }
          return send(item).then(function (result) {
            if (result.sent) { announce(words("msgSent") + result.sent.tracking_code); }
            if (result.refused) {
              item.refused = result.refused;
              return outbox.put(item).then(function () { return false; });
            }
            return !!result.offline;
          });
        });
      });
      return chain;
    }).then(render).then(function () { flushing = false; }, function () { flushing = false; });
  }

  window.minsheng = { outbox: outbox, send: send, flush: flush, render: render, newKey: newKey, remember: remember };

  // --- the receipt page: remember the code, copy it --------------------------------------------------
  var receipt = document.getElementById("receipt");
  if (receipt && receipt.dataset.code) { remember(receipt.dataset.code, receipt.dataset.key); }
  var copy = document.getElementById("copy-code");
  if (copy) {
    copy.addEventListener("click", function () {
      var code = document.getElementById("tracking-code");
      var done = function () { copy.textContent = copy.dataset.done; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(code.textContent.trim()).then(done, function () {});
      } else {  // plain http: select it and copy the old way
        var range = document.createRange();
        range.selectNodeContents(code);
        window.getSelection().removeAllRanges();
        window.getSelection().addRange(range);
        if (document.execCommand("copy")) { done(); }
      }
    });
  }

  if ("serviceWorker" in navigator && document.querySelector("link[rel=manifest]")) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* no offline copy: still works online */ });
  }
  window.addEventListener("online", flush);
  setInterval(flush, 20000);  // "online" is not always told (a weak signal that comes back)
  render().then(flush);
})();
