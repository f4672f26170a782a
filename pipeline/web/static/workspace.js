// Small enhancements; every page works without JavaScript (forms post, links navigate).
(function () {
  "use strict";
  // A bulk action says how many items it changes before it changes them.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var ask = form.getAttribute("data-confirm");
    if (ask && !window.confirm(ask)) { event.preventDefault(); }
  });
}());
