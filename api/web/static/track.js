// The tracking page refreshes itself while the note is still with the machine (transcribing,
// classifying): it asks the tracking API now and then and reloads once the status has moved on.
// A failed look-up (weak signal) is simply tried again later; the page itself stays.
(function () {
  "use strict";
  var card = document.getElementById("track");
  if (!card || !card.dataset.poll) { return; }
  var delay = 3000, MAX_DELAY = 20000, GIVE_UP = Date.now() + 30 * 60 * 1000;
  function look() {
    if (Date.now() > GIVE_UP) { return; }
    fetch("/api/v1/track/" + encodeURIComponent(card.dataset.code), { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (t) {
        if (t && t.status !== card.dataset.status) { window.location.reload(); return; }
        delay = Math.min(delay * 1.5, MAX_DELAY);
        setTimeout(look, delay);
      }, function () { setTimeout(look, MAX_DELAY); });
  }
  setTimeout(look, delay);
})();
