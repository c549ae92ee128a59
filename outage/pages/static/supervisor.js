// The supervisor dashboard refreshes itself every five minutes while it is on screen.
(function () {
  "use strict";
  var REFRESH_MS = 5 * 60 * 1000;
  var timer = null;
  function schedule() {
    window.clearTimeout(timer);
    if (document.visibilityState === "visible") {
      timer = window.setTimeout(function () { window.location.reload(); }, REFRESH_MS);
    }
  }
  document.addEventListener("visibilitychange", schedule);
  schedule();
})();
