// The villager's recording page: MediaRecorder in, multipart POST out, tracking code shown.
// Plain ES2017 so it runs on the browsers of cheap Android phones; no build step.
(function () {
  "use strict";
  var box = document.getElementById("recorder");
  if (!box) { return; }
  var button = document.getElementById("record-button");
  var label = document.getElementById("record-label");
  var statusLine = document.getElementById("record-status");
  var timer = document.getElementById("record-timer");
  var preview = document.getElementById("record-preview");
  var form = document.getElementById("voice-form");
  var send = document.getElementById("send-voice");
  var fileFallback = document.getElementById("file-fallback");
  var fileInput = document.getElementById("audio-file");
  var recorder = null, chunks = [], blob = null, started = 0, tick = null, stream = null, limit = null;
  // Stop by itself after five minutes: longer notes are slow to send over a village's mobile data.
  var MAX_MS = 5 * 60 * 1000;

  function say(key) { statusLine.textContent = box.dataset[key] || ""; }

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
    fileFallback.hidden = false;
    send.hidden = false;
  }

  if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    noRecorder("msgNomic");
  }

  function stop() {
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
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
    if (recorder && recorder.state === "recording") { stop(); } else { start(); }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    if (blob) {
      data.append("audio", blob, "note." + extensionFor(blob.type));
    } else if (fileInput.files && fileInput.files[0]) {
      data.append("audio", fileInput.files[0]);
    } else {
      return;
    }
    data.append("language", "auto");
    send.disabled = true;
    say("msgSending");
    fetch("/api/v1/suggestions", { method: "POST", body: data, headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { throw new Error(res.body.detail || "error"); }
        var code = res.body.tracking_code;
        document.getElementById("tracking-code").textContent = code;
        var key = res.body.rating_key;  // only this receipt shows it: the link carries the right to rate
        document.getElementById("tracking-link").href =
          "/track/" + encodeURIComponent(code) + (key ? "/" + encodeURIComponent(key) : "");
        document.getElementById("receipt").hidden = false;
        box.hidden = true;
        document.getElementById("receipt").scrollIntoView();
      })
      .catch(function (err) {
        statusLine.textContent = (box.dataset.msgFailed || "") + err.message;
        send.disabled = false;
      });
  });
})();
