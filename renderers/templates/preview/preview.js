// Optional enhancements for the preview: filtering by campaign, channel and status, and copy buttons.
// Without JavaScript every item is shown and the text can be selected by hand.
(function () {
  "use strict";

  function filters() {
    var form = document.getElementById("filters");
    if (!form) { return; }
    form.hidden = false;
    var campaign = document.getElementById("filter-campaign");
    var channel = document.getElementById("filter-channel");
    var problems = document.getElementById("filter-problems");
    var state = document.getElementById("filter-state");
    var status = document.getElementById("filter-status");
    var empty = document.getElementById("no-match");
    var entries = document.querySelectorAll(".entry[data-campaign][data-channel]");
    var rows = document.querySelectorAll("tr.entry");

    function apply() {
      var c = campaign.value, ch = channel.value, p = problems.checked, st = state.value;
      var shown = 0;
      entries.forEach(function (el) {
        var ok = (!c || el.getAttribute("data-campaign") === c) &&
                 (!ch || el.getAttribute("data-channel") === ch) &&
                 (!st || el.getAttribute("data-status") === st) &&
                 (!p || el.getAttribute("data-problems") === "yes");
        el.hidden = !ok;
      });
      rows.forEach(function (el) { if (!el.hidden) { shown += 1; } });
      if (empty) { empty.hidden = shown !== 0; }
      status.textContent = (!c && !ch && !p && !st)
        ? "Showing all " + rows.length + " items."
        : "Showing " + shown + " of " + rows.length + " items.";
      var params = [];
      if (c) { params.push("campaign=" + encodeURIComponent(c)); }
      if (ch) { params.push("channel=" + encodeURIComponent(ch)); }
      if (st) { params.push("status=" + encodeURIComponent(st)); }
      if (p) { params.push("problems=1"); }
      if (window.history && window.history.replaceState) {
        try { window.history.replaceState(null, "", params.length ? "#" + params.join("&") : "#"); }
        catch (e) { /* some browsers refuse on file:// */ }
      }
    }

    // restore a shared filter from the address (#campaign=...&channel=...)
    (window.location.hash || "").replace(/^#/, "").split("&").forEach(function (pair) {
      var kv = pair.split("=");
      var value = decodeURIComponent(kv[1] || "");
      if (kv[0] === "campaign") { campaign.value = value; }
      if (kv[0] === "channel") { channel.value = value; }
      if (kv[0] === "status") { state.value = value; }
      if (kv[0] === "problems") { problems.checked = value === "1"; }
    });
    form.addEventListener("change", apply);
    form.addEventListener("reset", function () { window.setTimeout(apply, 0); });
    form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
    apply();
  }

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.getAttribute("data-copy"));
      var done = button.nextElementSibling;
      if (!source) { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        source.select();
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
        if (done) { done.textContent = copied ? "Copied." : "Selected: press Ctrl+C (or Cmd+C) to copy."; }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    filters();
    copyButtons();
  });
}());
