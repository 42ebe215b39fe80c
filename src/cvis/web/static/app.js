/* cvis review keyboard: j/k move, v/b reveal/blur, c confirm, r reject, 0-4 category,
   n note, t tag, u undo. No inline script anywhere: this file is the page's only code
   besides htmx. Without JavaScript every action is still a plain form. */
(function () {
  "use strict";
  var ADVANCE = { confirm: true, reject: true, category: true };
  var advanceFrom = null;

  function cards() { return Array.prototype.slice.call(document.querySelectorAll("#cards > li.card")); }

  function current() {
    var active = document.activeElement;
    var card = active && active.closest ? active.closest("li.card") : null;
    return card || document.querySelector("li.card[data-current]") || cards()[0] || null;
  }

  function select(card) {
    cards().forEach(function (c) { c.removeAttribute("data-current"); });
    if (!card) { return; }
    card.setAttribute("data-current", "true");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  function move(delta, from) {
    var list = cards();
    var at = list.indexOf(from || current());
    var link = document.querySelector(delta > 0 ? "a[rel=next]" : "a[rel=prev]");
    var past = delta > 0 ? at >= list.length - 1 : at <= 0;
    if (link && (list.length <= 1 || past)) {
      window.location.href = link.href + (delta < 0 && list.length > 1 ? "#last" : "");
      return;
    }
    var next = list[Math.max(0, Math.min(list.length - 1, at + delta))];
    if (next) { select(next); }
  }

  function typing(target) {
    return target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target.type !== "submit";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !document.getElementById("cards")) { return; }
    var key = event.key;
    if (typing(event.target)) {
      if (key === "Escape") { select(event.target.closest("li.card")); event.preventDefault(); }
      return;
    }
    var card = current();
    var control = null;
    if (key === "j") { move(1); }
    else if (key === "k") { move(-1); }
    else if (key === "u") { control = document.querySelector("#undo-form button[data-key=u]"); }
    else if (card && /^[cvb0-4]$/.test(key)) { control = card.querySelector('button[data-key="' + key + '"]'); }
    else if (card && /^[rnt]$/.test(key)) {
      var input = card.querySelector('input[data-key="' + key + '"]');
      if (!input) { return; }
      input.focus();
    } else { return; }
    event.preventDefault();
    if (control && !control.disabled) { control.click(); }
  });

  document.addEventListener("submit", function (event) {
    var card = event.target.closest ? event.target.closest("li.card") : null;
    var action = event.target.querySelector("input[name=action]");
    advanceFrom = card && action && ADVANCE[action.value] ? card.id : null;
  }, true);

  // htmx puts focus back into a swapped-in box with the same id; keys typed before the
  // card settles would land there, so leave the box first (afterSettle picks the card).
  document.addEventListener("htmx:beforeSwap", function () {
    var active = document.activeElement;
    if (active && typing(active) && active.closest("li.card")) { active.blur(); }
  });

  // A card came back (a decision, a reveal, an undo): select it, or the next one after
  // a decision. Other swaps (the exposure counter) leave the selection alone.
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.detail && event.detail.target;
    var card = target && target.id ? document.getElementById(target.id) : null;
    if (!card || !card.matches("li.card")) { return; }
    if (advanceFrom === card.id && !card.querySelector(".error")) { move(1, card); }
    else { select(card); }
    advanceFrom = null;
  });

  document.addEventListener("load", function (event) {
    var img = event.target;
    if (img.tagName === "IMG" && img.dataset.step && img.dataset.step !== "0" && window.htmx
        && document.getElementById("exposure")) {
      window.htmx.ajax("GET", "/review/exposure", { target: "#exposure", swap: "outerHTML" });
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    if (window.location.hash === "#last") { select(cards()[cards().length - 1]); return; }
    var hash = window.location.hash && document.getElementById(window.location.hash.slice(1));
    if (hash && hash.matches("li.card")) { select(hash); }
  });
})();
