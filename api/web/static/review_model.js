// Classifier page: queue a retraining run, activate (roll back or forward) a version.
(function () {
  "use strict";
  function headers() {
    // Error details in the page's language (api/i18n.py reads Accept-Language).
    var h = { "Accept": "application/json", "Accept-Language": document.documentElement.lang || "zh-CN" };
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) { h["X-CSRF-Token"] = meta.content; }
    return h;
  }
  function post(url) {
    return fetch(url, { method: "POST", headers: headers(), credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    });
  }
  var status = document.getElementById("retrain-status");
  var retrain = document.getElementById("retrain");
  if (!retrain) { return; }  // only administrators may retrain or activate
  var states = JSON.parse(status.dataset.states || "{}");  // run states in the page's language
  retrain.addEventListener("click", function () {
    post("/api/v1/classifier/retrain").then(function (res) {
      if (!res.ok) { status.textContent = res.body.detail; return; }
      var run = res.body.run;
      status.textContent = "#" + run.id + " " + (states[run.state] || run.state);
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.activate"), function (b) {
    b.addEventListener("click", function () {
      post("/api/v1/classifier/versions/" + b.dataset.version + "/activate").then(function (res) {
        if (res.ok) { window.location.reload(); } else { status.textContent = res.body.detail; }
      });
    });
  });
})();
