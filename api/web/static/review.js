// The review queue page: one item at a time, one key per decision, no page reload.
// Keys: each category's key (1, 2, … as the page numbers them) picks it, Enter confirms and moves on, Esc leaves the text box, Ctrl+Enter saves
// from the text box, Space plays/pauses the recording, S skips.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("review-data").textContent);
  var S = data.strings;
  var buffer = data.items.slice();
  var handled = [];          // ids decided or skipped on this page: never fetched again
  var skipped = [];          // ids skipped on this page: still waiting in the queue
  var excludedWaiting = 0;   // of the ids the last fetch left out, how many still wait
  var remaining = data.total;
  var current = null;
  var chosen = null;
  var busy = false;
  var fetching = null;

  var $ = function (id) { return document.getElementById(id); };
  var text = $("item-text");
  var choices = Array.prototype.slice.call(document.querySelectorAll(".choice"));
  var keyRange = choices.length ? choices[0].dataset.key + "–" + choices[choices.length - 1].dataset.key : "";

  function csrfHeaders() {
    // Error details in the page's language (api/i18n.py reads Accept-Language).
    var headers = {
      "Content-Type": "application/json", "Accept": "application/json",
      "Accept-Language": document.documentElement.lang || "zh-CN"
    };
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) { headers["X-CSRF-Token"] = meta.content; }
    return headers;
  }

  function queueUrl() {
    var params = new URLSearchParams();
    var f = data.filters;
    (f.status || "needs_review").split(",").forEach(function (s) { if (s) { params.append("status", s); } });
    ["language", "category", "department", "since", "until"].forEach(function (k) {
      if (f[k]) { params.set(k, f[k]); }
    });
    var skip = handled.concat(buffer.map(function (i) { return i.id; }));
    if (current) { skip.push(current.id); }
    var excluded = skip.slice(-150);
    var waiting = skipped.concat(buffer.map(function (i) { return i.id; }));
    if (current) { waiting.push(current.id); }
    // The API counts what it did not leave out; the page counts everything still waiting.
    excludedWaiting = excluded.filter(function (id) { return waiting.indexOf(id) >= 0; }).length;
    excluded.forEach(function (id) { params.append("exclude", String(id)); });
    params.set("limit", "20");
    return "/api/v1/review?" + params.toString();
  }

  function refill() {
    if (fetching || buffer.length >= 5) { return fetching; }
    fetching = fetch(queueUrl(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { items: [], total: remaining }; })
      .then(function (body) {
        var known = {};
        buffer.forEach(function (i) { known[i.id] = true; });
        body.items.forEach(function (i) { if (!known[i.id] && handled.indexOf(i.id) < 0) { buffer.push(i); } });
        remaining = body.total + excludedWaiting;
        $("remaining").textContent = String(remaining);
      })
      .catch(function () { /* offline for a moment: the next decision tries again */ })
      .then(function () { fetching = null; });
    return fetching;
  }

  function pick(code) {
    chosen = code;
    choices.forEach(function (b) {
      b.classList.toggle("chosen", b.dataset.code === code);
      b.setAttribute("aria-pressed", b.dataset.code === code ? "true" : "false");
    });
  }

  function esc(s) {
    var d = document.createElement("span");
    d.textContent = s;
    return d.innerHTML;
  }

  function show(item) {
    current = item;
    if (!item) {
      $("item-body").hidden = true;
      $("item-empty").hidden = false;
      $("remaining").textContent = "0";
      return;
    }
    $("item-empty").hidden = true;
    $("item-body").hidden = false;
    $("item-body").dataset.id = String(item.id);
    $("item-code").textContent = item.tracking_code;
    var meta = [S["lang_" + item.language] || item.language || "?", S["channel_" + item.channel] || item.channel,
      item.submitted_at.slice(0, 16).replace("T", " ")];
    if (item.village) { meta.push(item.village); }
    if (item.department) { meta.push(document.documentElement.lang === "en" ? item.department.name_en : item.department.name_zh); }
    $("item-meta").textContent = meta.join(" · ");
    $("item-reason").textContent = item.review_reason || "";
    var box = $("audio-box");
    box.innerHTML = "";
    if (item.audio_url) {
      var audio = document.createElement("audio");
      audio.controls = true;
      audio.preload = "auto";
      audio.src = item.audio_url;
      audio.id = "item-audio";
      box.appendChild(audio);
    } else {
      box.innerHTML = '<p class="muted">' + esc(S.no_audio) + "</p>";
    }
    var heard = $("item-heard");
    if (item.segments && item.segments.length) {
      heard.innerHTML = item.segments.map(function (s) {
        if (s.words && s.words.length) {
          // Timed words: only the ones the engine was unsure of are marked.
          return '<span data-start="' + Number(s.start) + '">' + s.words.map(function (w) {
            if (!w.unsure) { return esc(w.word); }
            var pct = Math.round(Number(w.probability) * 100);
            return '<mark class="unsure-word" data-start="' + Number(w.start) + '" title="' +
              esc(S.unsure_word.replace("{pct}", String(pct))) + '">' + esc(w.word) + "</mark>";
          }).join("") + "</span>";
        }
        var cls = s.unsure ? ' class="unsure" title="' + esc(S.unsure) + '"' : "";
        return "<span" + cls + ' data-start="' + Number(s.start) + '">' + esc(s.text) + "</span>";
      }).join(" ");
    } else {
      heard.textContent = item.original_transcript || item.text || "";
    }
    text.value = item.text || "";
    text.dataset.original = item.text || "";
    choices.forEach(function (b) {
      var p = (item.probabilities || {})[b.dataset.code] || 0;
      b.querySelector(".fill").style.width = (p * 100).toFixed(1) + "%";
      b.querySelector(".pct").textContent = (p * 100).toFixed(0) + "%";
      b.classList.toggle("predicted", b.dataset.code === item.category);
    });
    pick(item.category || null);
    $("item-link").href = "/staff/review/" + item.id;
    $("remaining").textContent = String(remaining);
  }

  function next() {
    if (buffer.length) {
      show(buffer.shift());
      refill();
      return;
    }
    show(null);
    var wait = refill();
    if (wait) { wait.then(function () { if (buffer.length) { show(buffer.shift()); } }); }
  }

  function categoryName(code) {
    var found = choices.filter(function (b) { return b.dataset.code === code; })[0];
    var name = found && found.querySelector(".name");
    return name ? name.textContent.trim() : code;
  }

  function note(message, ok) {
    var line = $("status-line");
    line.textContent = message;
    line.className = "status-line " + (ok ? "ok" : "bad");
  }

  function decide() {
    if (!current || busy) { return; }
    if (!chosen) { note(S.choose.replace("{keys}", keyRange), false); return; }
    var item = current;
    var body = { category: chosen };
    if (text.value.trim() !== (text.dataset.original || "").trim()) { body.transcript = text.value; }
    busy = true;
    fetch("/api/v1/suggestions/" + item.id + "/review", {
      method: "POST", headers: csrfHeaders(), credentials: "same-origin", body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return { ok: r.ok, body: j }; });
    }).then(function (res) {
      busy = false;
      if (!res.ok) { note(S.error + ": " + (res.body.detail || ""), false); return; }
      handled.push(item.id);
      remaining = Math.max(0, remaining - 1);
      var li = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/staff/review/" + item.id;
      link.textContent = item.tracking_code;
      li.appendChild(link);
      li.appendChild(document.createTextNode(" " + S[res.body.verdict] + " → " + categoryName(res.body.category)));
      li.dataset.id = String(item.id);
      $("recent").insertBefore(li, $("recent").firstChild);
      note(S.saved + " · " + item.tracking_code + " · " + S[res.body.verdict], true);
      text.blur();
      next();
    }).catch(function (err) {
      busy = false;
      note(S.error + ": " + err, false);
    });
  }

  choices.forEach(function (b) {
    b.addEventListener("click", function () { pick(b.dataset.code); });
  });
  $("confirm").addEventListener("click", decide);
  $("skip").addEventListener("click", function () {
    if (current) { handled.push(current.id); skipped.push(current.id); }
    next();
  });
  $("item-heard").addEventListener("click", function (e) {
    var start = e.target && e.target.dataset ? e.target.dataset.start : null;
    var audio = $("item-audio");
    if (audio && start) { audio.currentTime = parseFloat(start); audio.play(); }
  });

  document.addEventListener("keydown", function (e) {
    var inText = document.activeElement === text;
    if (inText) {
      if (e.key === "Escape") { text.blur(); e.preventDefault(); }
      else if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); decide(); }
      return;
    }
    var tag = document.activeElement ? document.activeElement.tagName : "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") { return; }
    if (e.ctrlKey || e.metaKey || e.altKey) { return; }
    var keyed = choices.filter(function (c) { return c.dataset.key === e.key; })[0];
    if (keyed) {
      pick(keyed.dataset.code); e.preventDefault();
    } else if (e.key === "Enter") {
      e.preventDefault();
      decide();
    } else if (e.key === " ") {
      var audio = $("item-audio");
      if (audio) { e.preventDefault(); if (audio.paused) { audio.play(); } else { audio.pause(); } }
    } else if (e.key === "s" || e.key === "S") {
      if (current) { handled.push(current.id); skipped.push(current.id); }
      next();
    } else if (e.key === "e" || e.key === "E") {
      e.preventDefault();
      text.focus();
    }
  });

  next();
})();
