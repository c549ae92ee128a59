// The report form's extras; the form works without them.
// "Use my location" fills the hidden lat/lon fields; a second tap on "send" is ignored.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) {
    return;
  }
  var button = document.getElementById("locate");
  var statusText = document.getElementById("location-status");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");

  function say(message) {
    statusText.textContent = message;
  }

  if (!("geolocation" in navigator)) {
    say(button.dataset.unavailable);
  } else {
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      say(button.dataset.locating);
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(6);
          lon.value = position.coords.longitude.toFixed(6);
          say(button.dataset.found.replace("{accuracy}", String(Math.round(position.coords.accuracy))));
          button.disabled = false;
        },
        function (error) {
          if (error.code === error.PERMISSION_DENIED) {
            say(button.dataset.denied);
          } else if (error.code === error.TIMEOUT) {
            say(button.dataset.timeout);
          } else {
            say(button.dataset.unavailable);
          }
          button.disabled = false;
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
      );
    });
  }

  var submit = document.getElementById("submit");
  var label = submit.textContent;
  form.addEventListener("submit", function (event) {
    if (form.dataset.sent) {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
    submit.textContent = submit.dataset.sending;
    submit.setAttribute("aria-busy", "true");
  });
  // Coming back with the Back button: the form may be sent again (same token, same ticket).
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      delete form.dataset.sent;
      submit.textContent = label;
      submit.removeAttribute("aria-busy");
    }
  });
})();
