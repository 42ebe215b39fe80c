// Progressive enhancement only: every page works without this file.
"use strict";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/sw.js").catch(function () {});
}

document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("a.copy-link");
  if (!link || !navigator.clipboard) { return; }
  event.preventDefault();
  navigator.clipboard.writeText(link.href).then(function () {
    var status = document.querySelector(".copy-status");
    if (status) { status.textContent = link.dataset.copied; }
  });
});

function urlBase64ToBytes(text) {
  var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  var raw = atob(padded), bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
  return bytes;
}

var push = document.querySelector(".push");
if (push && "PushManager" in window && "serviceWorker" in navigator) {
  push.hidden = false;
  push.querySelector(".push-subscribe").addEventListener("click", function () {
    var status = push.querySelector(".push-status");
    var zip = document.getElementById("zip"), radius = document.getElementById("radius");
    navigator.serviceWorker.ready.then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true, applicationServerKey: urlBase64ToBytes(push.dataset.vapid)
      });
    }).then(function (subscription) {
      return fetch("/api/v1/subscriptions", {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({
          channel: "push", push: subscription.toJSON(), poster: push.dataset.poster,
          zip: zip ? zip.value : "", radius_miles: radius ? Number(radius.value) : 10,
          language: document.documentElement.lang
        })
      });
    }).then(function (response) {
      status.textContent = response.ok ? "\u2713" : "\u2717";
    }).catch(function (error) { status.textContent = String(error); });
  });
}
