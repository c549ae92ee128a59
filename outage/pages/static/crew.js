// The crew page's buttons, made to survive a flaky connection.
//
// Every action goes into a queue kept in localStorage and is sent in order; a failed send
// (no network, a server error) is retried with backoff and when the phone is online again.
// An action already queued for a job is not queued twice, and a job's buttons are disabled
// while its action is in flight. A replay the server has already applied is refused by the
// incident's lifecycle (409), and a partial restoration carries the incident's version, so
// nothing is applied twice. While the crew is on shift its position is sent every minute.
(function () {
  "use strict";
  var page = document.getElementById("crew-page");
  if (!page || !page.dataset.crew) {
    return;
  }
  var crewId = page.dataset.crew;
  var csrf = page.dataset.csrf;
  var T = JSON.parse(document.getElementById("crew-strings").textContent);
  var notice = document.getElementById("crew-notice");
  var QUEUE_KEY = "outage-crew-queue-" + crewId;
  var STATUS_KEY = "outage-crew-status-" + crewId;
  var POSITION_EVERY_MS = 60000;
  var MAX_BACKOFF_MS = 60000;
  var TARGET = {
    en_route: "en_route",
    on_site: "on_site",
    restored: "restored",
    partial_restore: "partially_restored"
  };
  var CREW_STATUS = { en_route: "en_route", on_site: "on_site", restored: "available" };
  var sending = null;
  var failures = 0;
  var retryTimer = null;
  var stopped = false;

  function load() {
    try {
      return JSON.parse(window.localStorage.getItem(QUEUE_KEY) || "[]");
    } catch (error) {
      return [];
    }
  }

  function save(queue) {
    try {
      window.localStorage.setItem(QUEUE_KEY, JSON.stringify(queue));
    } catch (error) {
      // Private mode or a full store: the queue lives in this page only.
    }
  }

  var memory = load();

  function queue() {
    return memory;
  }

  function store(items) {
    memory = items;
    save(items);
  }

  function tell(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function card(incident) {
    return document.getElementById("job-" + incident);
  }

  function say(incident, text) {
    var li = card(incident);
    if (li) {
      li.querySelector(".job-message").textContent = text;
    }
  }

  function render(li) {
    var status = li.dataset.status;
    var incident = li.dataset.incident;
    var busy = sending !== null && String(sending.incident) === incident;
    li.querySelectorAll("[data-when]").forEach(function (element) {
      element.hidden = element.dataset.when.split(" ").indexOf(status) < 0;
    });
    li.querySelectorAll("button").forEach(function (button) {
      button.disabled = busy;
    });
    li.querySelector(".job-status").textContent = T["crew_state." + status] || status;
    var partial = li.querySelector("input[name=extent][value=partial]");
    li.querySelector(".partial-only").hidden = !(partial && partial.checked);
  }

  function renderAll() {
    document.querySelectorAll("li.job").forEach(render);
  }

  function crewStatus(action) {
    if (CREW_STATUS[action]) {
      try {
        window.localStorage.setItem(STATUS_KEY, CREW_STATUS[action]);
      } catch (error) {
        // Not kept: the next position goes without a status.
      }
    }
  }

  function enqueue(incident, steps) {
    var items = queue();
    var fresh = steps.filter(function (step) {
      return !items.some(function (item) {
        return item.incident === incident && item.action === step.action;
      });
    });
    if (fresh.length === 0) {
      return false;
    }
    fresh.forEach(function (step) {
      step.incident = incident;
      step.id = incident + "-" + step.action + "-" + Date.now();
      items.push(step);
    });
    store(items);
    var li = card(incident);
    var last = fresh[fresh.length - 1];
    if (li && TARGET[last.action]) {
      li.dataset.status = TARGET[last.action];
    }
    say(incident, navigator.onLine ? T.crew_sending : T.crew_queued);
    renderAll();
    flush();
    return true;
  }

  function patch(action, extra) {
    var body = { action: action };
    Object.keys(extra || {}).forEach(function (name) {
      if (extra[name] !== undefined && extra[name] !== "") {
        body[name] = extra[name];
      }
    });
    return body;
  }

  function request(item) {
    var body = item.body;
    var li = card(item.incident);
    if (item.versioned && li) {
      // The version the crew saw: a replay of an applied step is refused, not doubled.
      body = Object.assign({ expected_version: Number(li.dataset.version) }, body);
    }
    var url = item.action === "help"
      ? "/api/v1/crews/" + encodeURIComponent(crewId) + "/help"
      : "/api/v1/incidents/" + encodeURIComponent(item.incident);
    return fetch(url, {
      method: item.action === "help" ? "POST" : "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    });
  }

  function reason(answer) {
    return answer.json().then(
      function (body) {
        var detail = body && body.detail;
        if (Array.isArray(detail)) {
          return detail.map(function (d) { return d.msg; }).join("; ");
        }
        return String(detail || answer.status);
      },
      function () { return String(answer.status); }
    );
  }

  function resync(incident) {
    return fetch("/api/v1/incidents/" + encodeURIComponent(incident), {
      credentials: "same-origin"
    }).then(function (answer) {
      return answer.ok ? answer.json() : null;
    }).then(function (found) {
      var li = card(incident);
      if (found && li) {
        li.dataset.status = found.status;
        li.dataset.version = String(found.version);
      }
      renderAll();
    }, function () { renderAll(); });
  }

  function done(item) {
    store(queue().filter(function (other) { return other.id !== item.id; }));
    sending = null;
  }

  function retryLater() {
    failures += 1;
    var wait = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, failures));
    tell(T.crew_offline);
    window.clearTimeout(retryTimer);
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      flush();
    }, wait);
  }

  function flush() {
    if (sending !== null || stopped) {
      return;
    }
    var item = queue()[0];
    if (!item) {
      return;
    }
    sending = item;
    renderAll();
    request(item).then(function (answer) {
      if (answer.ok) {
        failures = 0;
        tell("");
        return answer.json().then(function (body) {
          var li = card(item.incident);
          if (li && item.action !== "help") {
            li.dataset.status = body.status;
            li.dataset.version = String(body.version);
          }
          crewStatus(item.action);
          say(item.incident, item.action === "help" ? T.crew_help_sent : T.crew_sent);
          done(item);
        });
      }
      if (answer.status === 401) {
        // Kept: sent once the member signs in again.
        sending = null;
        stopped = true;
        tell(T.crew_sign_in_again);
        return null;
      }
      if (answer.status === 429 || answer.status >= 500) {
        sending = null;
        retryLater();
        return null;
      }
      // Refused for good (409: it changed meanwhile, or was applied already; 4xx: bad).
      return reason(answer).then(function (text) {
        say(item.incident, T.crew_failed.replace("{reason}", text));
        done(item);
        return resync(item.incident);
      });
    }, function () {
      sending = null;
      retryLater();
    }).then(function () {
      renderAll();
      if (sending === null && retryTimer === null && !stopped) {
        flush();
      }
    });
  }

  document.querySelectorAll("li.job").forEach(function (li) {
    var incident = Number(li.dataset.incident);
    li.querySelectorAll("button.act[data-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var action = button.dataset.action;
        var body = action === "help" ? { incident_id: incident } : patch(action);
        enqueue(incident, [{ action: action, body: body }]);
      });
    });
    li.querySelectorAll("input[name=extent]").forEach(function (radio) {
      radio.addEventListener("change", function () { render(li); });
    });
    var form = li.querySelector("form.restore");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      var notes = String(data.get("notes") || "").trim();
      var cause = String(data.get("cause") || "");
      var steps = [];
      if (cause) {
        steps.push({ action: "set_cause", body: patch("set_cause", { cause: cause }) });
      }
      if (data.get("extent") === "partial") {
        var count = Number(data.get("restored_customers"));
        if (!Number.isInteger(count) || count < 1) {
          form.querySelector("input[name=restored_customers]").focus();
          return;
        }
        steps.push({
          action: "partial_restore",
          versioned: true,
          body: patch("partial_restore", { restored_customers: count, reason: notes })
        });
      } else {
        steps.push({ action: "restored", body: patch("restored", { reason: notes }) });
      }
      if (enqueue(incident, steps)) {
        form.reset();
      }
    });
  });

  window.addEventListener("online", function () {
    failures = 0;
    window.clearTimeout(retryTimer);
    retryTimer = null;
    tell("");
    flush();
  });

  // --- the crew's position, while on shift ---------------------------------------------

  function sendPosition(position) {
    var status = null;
    try {
      status = window.localStorage.getItem(STATUS_KEY);
    } catch (error) {
      status = null;
    }
    var body = {
      lat: Number(position.coords.latitude.toFixed(6)),
      lon: Number(position.coords.longitude.toFixed(6)),
      accuracy: Math.round(position.coords.accuracy || 0),
      recorded_at: new Date(position.timestamp || Date.now()).toISOString()
    };
    if (status) {
      body.status = status;
    }
    fetch("/api/v1/crews/" + encodeURIComponent(crewId) + "/position", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function () { return null; }, function () { return null; });
  }

  function locate() {
    navigator.geolocation.getCurrentPosition(sendPosition, function () { return null; }, {
      enableHighAccuracy: true,
      maximumAge: 30000,
      timeout: 20000
    });
  }

  if (page.dataset.onShift === "true" && "geolocation" in navigator) {
    locate();
    window.setInterval(locate, POSITION_EVERY_MS);
  }

  renderAll();
  flush();
})();
