// The service worker: keeps the recording page and its files so the page opens without a connection.
// Network first (a connected phone always gets the current page), the kept copy when the network
// fails. It never touches a form or an upload: notes made offline wait in IndexedDB (villager.js).
"use strict";
var CACHE = "minsheng-shell-v1";
var SHELL = [
  "/",
  "/static/minsheng.css",
  "/static/villager.js",
  "/static/record.js",
  "/static/icon-192.png",
  "/static/icon-512.png",
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function keeps(url, request) {
  if (request.method !== "GET" || url.origin !== self.location.origin) { return false; }
  if (request.mode === "navigate") { return url.pathname === "/"; }
  return SHELL.indexOf(url.pathname) >= 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (!keeps(url, request)) { return; }
  event.respondWith(fetch(request).then(function (response) {
    var noStore = (response.headers.get("Cache-Control") || "").indexOf("no-store") >= 0;
    if (response.ok && !noStore) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request).then(function (hit) {
      return hit || caches.match(url.pathname === "/" ? "/" : request, { ignoreSearch: true });
    }).then(function (hit) { return hit || Response.error(); });
  }));
});
