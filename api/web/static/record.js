// The villager's recording page: MediaRecorder in, the outbox (villager.js) out, the receipt page shown.
// A note goes into the phone's outbox first and is sent from there: without a connection it waits
// and goes later by itself. Plain ES2017 so it runs on the browsers of cheap Android phones.
(function () {
  "use strict";
  var box = document.getElementById("recorder");
  if (!box || !window.minsheng) { return; }
  var ms = window.minsheng;
  var button = document.getElementById("record-button");
  var label = document.getElementById("record-label");
  var statusLine = document.getElementById("record-status");
  var timer = document.getElementById("record-timer");
  var preview = document.getElementById("record-preview");
  var voiceForm = document.getElementById("voice-form");
  var send = document.getElementById("send-voice");
  var fileInput = document.getElementById("audio-file");
  var textForm = document.getElementById("text-form");
  var textStatus = document.getElementById("text-status");
  var recorder = null, chunks = [], blob = null, started = 0, tick = null, stream = null, limit = null;
  // Stop by itself after five minutes: longer notes are slow to send over a village's mobile data.
  var MAX_MS = 5 * 60 * 1000;

  function say(key, line) { (line || statusLine).textContent = box.dataset[key] || ""; }

  function pickType() {
    var types = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus", "audio/mp4", "audio/webm"];
    for (var i = 0; i < types.length; i++) {
      if (window.MediaRecorder && MediaRecorder.isTypeSupported && MediaRecorder.isTypeSupported(types[i])) {
        return types[i];
      }
    }
    return "";
  }

  function extensionFor(type) {
    if (type.indexOf("ogg") >= 0) { return "ogg"; }
    if (type.indexOf("mp4") >= 0) { return "m4a"; }
    return "webm";
  }

  function showTime() {
    var s = Math.floor((Date.now() - started) / 1000);
    timer.textContent = Math.floor(s / 60) + ":" + ("0" + (s % 60)).slice(-2);
  }

  function noRecorder(key) {
    say(key);
    button.disabled = true;
  }

  if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    noRecorder("msgNomic");
  }

  function recording() { return recorder !== null && recorder.state === "recording"; }

  // Leaving the page while recording, or with a recording not yet sent, loses it: ask first.
  window.addEventListener("beforeunload", function (event) {
    if (recording() || blob) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  function stop() {
    if (recording()) { recorder.stop(); }
  }

  function start() {
    navigator.mediaDevices.getUserMedia({ audio: true }).then(function (s) {
      stream = s;
      var type = pickType();
      recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
      chunks = [];
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) { chunks.push(e.data); } };
      recorder.onstop = function () {
        clearInterval(tick);
        clearTimeout(limit);
        stream.getTracks().forEach(function (t) { t.stop(); });
        blob = new Blob(chunks, { type: recorder.mimeType || type || "audio/webm" });
        preview.src = URL.createObjectURL(blob);
        preview.hidden = false;
        send.hidden = false;
        button.setAttribute("aria-pressed", "false");
        label.textContent = label.dataset.start;
        say("msgReady");
      };
      recorder.start(1000);
      started = Date.now();
      showTime();
      tick = setInterval(showTime, 500);
      limit = setTimeout(stop, MAX_MS);
      button.setAttribute("aria-pressed", "true");
      label.textContent = label.dataset.stop;
      say("msgRecording");
    }).catch(function () { noRecorder("msgDenied"); });
  }

  button.addEventListener("click", function () {
    if (recording()) { stop(); } else { start(); }
  });

  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    document.getElementById("file-name").textContent = file ? file.name : "";
    if (file) { say("msgFileChosen"); }
  });

  function fields(form) {
    var out = {};
    ["village", "address", "phone", "text"].forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (input && input.value && input.value.trim()) { out[name] = input.value.trim(); }
    });
    return out;
  }

  // Keep it on the phone, then send it. Sent: the receipt page. No connection: it waits in the outbox
  // and the form is cleared. Refused (a recording too short, say): back in the form, with the reason.
  function deliver(item, line, buttons, ui) {
    buttons.forEach(function (b) { if (b) { b.disabled = true; } });
    say("msgSending", line);
    return ms.outbox.put(item).then(function () { return true; }, function () { return false; })
      .then(function (kept) {
        if (kept) { ui.kept(); }
        return ms.send(item).then(function (result) {
          if (result.sent) {
            window.location.assign("/receipt/" + encodeURIComponent(result.sent.tracking_code) + "/" +
              encodeURIComponent(result.sent.rating_key || ""));
            return;
          }
          buttons.forEach(function (b) { if (b) { b.disabled = false; } });
          if (result.refused) {
            if (kept) { ms.outbox.remove(item.id).then(ms.render); }
            ui.refused();
            line.textContent = (box.dataset.msgFailed || "") + result.refused;
            return;
          }
          if (kept) { ui.queued(); }
          say(kept ? "msgQueued" : "msgOffline", line);
          ms.render();
        });
      });
  }

  voiceForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var file = fileInput.files && fileInput.files[0];
    var fromFile = (event.submitter && event.submitter.id === "send-file") || !blob;
    var audio = fromFile ? file : blob;
    if (!audio) { say("msgNoFile"); return; }
    var item = {
      id: ms.newKey(), created: Date.now(), fields: fields(voiceForm), audio: audio,
      name: fromFile ? (file.name || "note") : "note." + extensionFor(blob.type),
    };
    var recorded = fromFile ? null : blob;
    deliver(item, statusLine, [send, document.getElementById("send-file")], {
      kept: function () { if (recorded) { blob = null; } },  // safe in the outbox: the page may be left
      refused: function () { if (recorded) { blob = recorded; } },
      queued: function () {
        if (recorded) { preview.hidden = true; send.hidden = true; } else {
          fileInput.value = "";
          document.getElementById("file-name").textContent = "";
        }
      },
    });
  });

  textForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var item = { id: ms.newKey(), created: Date.now(), fields: fields(textForm) };
    if (!item.fields.text) { return; }
    var none = function () {};
    deliver(item, textStatus, [textForm.querySelector("button[type=submit]")], {
      kept: none, refused: none, queued: function () { textForm.reset(); },
    });
  });
})();
