// The crew page's buttons and switching reports, made to survive a flaky connection.
//
// Every action goes into a queue kept in localStorage and is sent in order; a failed send
// (no network, a server error) is retried with backoff and when the phone is online again.
// An action already queued for a job is not queued twice, and a job's buttons are disabled
// while its action is in flight. A replay the server has already applied is refused by the
// incident's lifecycle (409), and a partial restoration carries the incident's version, so
// nothing is applied twice. A switching report ("opened X", "replaced fuse Y") carries the
// moment it happened (the moment the button was pressed, unless the crew gave one) and an
// idempotency key, so a report sent again after a lost answer is recorded once; until the
// server has answered it is shown as queued, never as done. Where a crew found a job's fault
// goes through the same queue (a `confirm` naming the device) and is shown as queued until
// the server has placed the job there; the devices suggested for it, the job's and those
// below it, are fetched when its form opens and kept for offline. Damage the crew assessed
// (on a job, or where no job is, at the phone's position) goes through the same queue, like
// a switching report with the moment it was pressed and an idempotency key, so it is
// recorded once and shown as queued until the server has answered. While the crew is on
// shift its position is sent every minute.
//
// Nothing is shown as done before the server says so: the pressed control itself reads
// "Sending…", or "Waiting for network" while offline, and the job's status changes with the
// server's answer; a refusal is said beside that control, in the crew's words. The job list
// is refreshed every POLL_MS and on reconnecting; new jobs are announced.
(function () {
  "use strict";
  var page = document.getElementById("crew-page");
  if (!page || !page.dataset.crew) {
    return;
  }
  var crewId = page.dataset.crew;
  var csrf = page.dataset.csrf;
  var T = JSON.parse(document.getElementById("crew-strings").textContent);
  // The service's clock: the wall clock, or a demo's scaled one (epoch + elapsed x speed),
  // so the times a phone reports agree with the times the service keeps.
  var CLOCK_EPOCH = page.dataset.clockEpoch ? Date.parse(page.dataset.clockEpoch) : null;
  var CLOCK_SPEED = Number(page.dataset.clockSpeed) || 1;
  function serviceTime(wallMs) {
    return new Date(CLOCK_EPOCH === null ? wallMs : CLOCK_EPOCH + (wallMs - CLOCK_EPOCH) * CLOCK_SPEED);
  }
  var notice = document.getElementById("crew-notice");
  var QUEUE_KEY = "outage-crew-queue-" + crewId;
  var STATUS_KEY = "outage-crew-status-" + crewId;
  var BELOW_KEY = "outage-crew-below-" + crewId + "-";
  var POSITION_EVERY_MS = 60000;
  var MAX_BACKOFF_MS = 60000;
  // The control that sent each action: it shows the action pending until the server answers.
  var CONTROL = {
    en_route: "[data-action=en_route]",
    on_site: "[data-action=on_site]",
    help: "[data-action=help]",
    set_cause: "form.restore button[type=submit]",
    partial_restore: "form.restore button[type=submit]",
    restored: "form.restore button[type=submit]",
    confirm: ".found-form button[type=submit]"
  };
  var POLL_MS = 25000;
  var CREW_STATUS = { en_route: "en_route", on_site: "on_site", restored: "available" };
  var FUSE_REPLACED = "fuse replaced";
  // Written in the switching log as is, like an order's "order N step k".
  var FUTURE_SLACK_MS = 60000;
  var SEARCH_DELAY_MS = 250;
  var SEARCH_MIN_CHARS = 2;
  var sending = null;
  var failures = 0;
  var retryTimer = null;
  var stopped = false;
  var refusals = {};

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

  function kindName(kind) {
    return T["crew_kind." + kind] || kind;
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

  // The job's own actions (switching and damage reports have a `kind` and block nothing).
  function pendingOf(incident) {
    return queue().filter(function (item) {
      return !item.kind && String(item.incident) === String(incident);
    });
  }

  // Each control with an action of the job still unanswered says so on itself: sending,
  // or waiting for the network; the job's status changes only once the server has answered.
  function renderPending(li, pending) {
    var waiting = !navigator.onLine || failures > 0;
    var shown = {};
    pending.forEach(function (item) {
      var control = li.querySelector(CONTROL[item.action]);
      if (control) {
        shown[CONTROL[item.action]] = control;
      }
    });
    li.querySelectorAll("button").forEach(function (button) {
      if (button.dataset.label === undefined) {
        button.dataset.label = button.textContent;
      }
      var mine = Object.keys(shown).some(function (key) { return shown[key] === button; });
      // A status change waits for the one pending; help may always be asked for.
      var blocked = pending.length > 0 && button.dataset.action && button.dataset.action !== "help";
      button.disabled = Boolean(mine || blocked);
      if (mine) {
        button.textContent = waiting ? T.crew_waiting : T.crew_sending;
        button.dataset.pending = waiting ? "waiting" : "sending";
        button.setAttribute("aria-busy", "true");
      } else if (button.dataset.pending) {
        button.textContent = button.dataset.label;
        delete button.dataset.pending;
        button.removeAttribute("aria-busy");
      }
    });
  }

  // A refusal is said beside the control that sent it, in the crew's words.
  function renderRefusal(li) {
    var refused = refusals[li.dataset.incident];
    li.querySelectorAll(".refusal").forEach(function (old) {
      if (!refused || old.dataset.control !== refused.control) {
        old.parentNode.removeChild(old);
      }
    });
    if (!refused) {
      return;
    }
    var control = li.querySelector(refused.control);
    if (!control) {
      return;
    }
    var shown = li.querySelector(".refusal");
    if (!shown) {
      shown = document.createElement("p");
      shown.className = "refusal";
      shown.setAttribute("role", "alert");
      shown.dataset.control = refused.control;
      control.insertAdjacentElement("afterend", shown);
    }
    shown.textContent = refused.text;
  }

  function render(li) {
    var status = li.dataset.status;
    li.querySelectorAll("[data-when]").forEach(function (element) {
      element.hidden = element.dataset.when.split(" ").indexOf(status) < 0;
    });
    renderPending(li, pendingOf(li.dataset.incident));
    renderRefusal(li);
    li.querySelector(".job-status").textContent = T["crew_state." + status] || status;
    var partial = li.querySelector("input[name=extent][value=partial]");
    li.querySelector(".partial-only").hidden = !(partial && partial.checked);
    renderFound(li);
  }

  function renderAll() {
    document.querySelectorAll("#jobs > li.job").forEach(render);
    renderSwitches();
    renderDamage();
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
    delete refusals[incident];
    say(incident, "");
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

  // Reports sent with their own idempotency key, by kind.
  var KEYED = { "switch": "/api/v1/grid/operations", damage: "/api/v1/damage-assessments" };

  function request(item) {
    if (KEYED[item.kind]) {
      return fetch(KEYED[item.kind], {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Content-Type": "application/json",
          "X-CSRF-Token": csrf,
          "Idempotency-Key": item.id
        },
        body: JSON.stringify(item.body)
      });
    }
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

  // A refusal's code (when the server names it) and its reason as text.
  function refusal(answer) {
    return answer.json().then(
      function (body) {
        var detail = body && body.detail;
        if (Array.isArray(detail)) {
          detail = detail.map(function (d) { return d.msg; }).join("; ");
        }
        return { code: body && body.code, text: String(detail || answer.status) };
      },
      function () { return { code: null, text: String(answer.status) }; }
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

  function refuse(item, status) {
    var li = card(item.incident);
    var worded = T["crew_refused." + status] || T["crew_refused.other"];
    var now = li ? T["crew_state." + li.dataset.status] || li.dataset.status : "";
    refusals[item.incident] = {
      control: CONTROL[item.action],
      text: worded.replace("{status}", now).replace("{code}", String(status))
    };
    renderAll();
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
          if (item.kind === "switch") {
            recorded(item, body);
            done(item);
            return;
          }
          if (item.kind === "damage") {
            damageRecorded(item, body);
            done(item);
            return;
          }
          var li = card(item.incident);
          if (li && item.action !== "help") {
            li.dataset.status = body.status;
            li.dataset.version = String(body.version);
          }
          if (li && item.action === "confirm") {
            placed(li, body.device);
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
      return refusal(answer).then(function (refused) {
        if (item.kind === "switch") {
          switchRefused(item, refused);
          done(item);
          return null;
        }
        if (item.kind === "damage") {
          damageRefused(item, refused);
          done(item);
          return null;
        }
        if (item.action === "confirm") {
          foundRefused(item, refused);  // said beside the form, in the reader's words
        }
        say(item.incident, "");
        done(item);
        return resync(item.incident).then(function () {
          if (item.action !== "confirm") {
            refuse(item, answer.status);
          }
        });
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

  function bind(li) {
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
    var found = li.querySelector("details.found");
    if (found) {
      found.addEventListener("toggle", function () {
        if (found.open) {
          below(li);
        }
      });
      found.querySelector("form").addEventListener("submit", function (event) {
        event.preventDefault();
        reportFound(li, found);
      });
    }
    bindDamage(li.querySelector("form.damage-form"));
  }

  document.querySelectorAll("#jobs > li.job").forEach(bind);

  // --- where the crew found a job's fault -------------------------------------------------

  var foundOutcomes = {};
  var belowFetched = {};

  function foundItem(incident) {
    return queue().filter(function (item) {
      return String(item.incident) === String(incident) && item.action === "confirm";
    })[0];
  }

  function renderFound(li) {
    var shown = li.querySelector(".found-state");
    if (!shown) {
      return;
    }
    var item = foundItem(li.dataset.incident);
    var outcome = foundOutcomes[li.dataset.incident];
    var text = "";
    if (item) {
      var inFlight = sending !== null && sending.id === item.id;
      text = T[inFlight ? "crew_found_sending" : "crew_found_queued"].replace("{device}", item.body.device);
      shown.dataset.state = inFlight ? "sending" : "queued";
    } else if (outcome) {
      text = outcome.text;
      shown.dataset.state = outcome.state;
    }
    shown.textContent = text;
    shown.hidden = !text;
  }

  function placed(li, device) {
    var shown = li.querySelector(".job-device");
    if (device && shown) {
      shown.textContent = device.asset_ref + " (" + kindName(device.kind) + ")";
    }
    foundOutcomes[li.dataset.incident] = {
      state: "recorded",
      text: T.crew_found_recorded.replace("{device}", device ? device.asset_ref : "")
    };
    // The job's area is now what lies below the device found: asked again when reopened.
    forget(li.dataset.incident);
  }

  // A refusal in the crew's words when the server gave a code the catalogue knows.
  function refusalText(kind, refused, device) {
    var worded = refused.code && T["crew_" + kind + "_refused." + refused.code];
    return worded
      ? worded.replace("{device}", device)
      : T.crew_failed.replace("{reason}", refused.text);
  }

  function foundRefused(item, refused) {
    foundOutcomes[item.incident] = {
      state: "refused",
      text: refusalText("found", refused, item.body.device)
    };
  }

  function forget(incident) {
    delete belowFetched[incident];
    try {
      window.localStorage.removeItem(BELOW_KEY + incident);
    } catch (error) {
      // Nothing kept.
    }
  }

  function offer(li, devices) {
    var list = li.querySelector("datalist");
    list.textContent = "";
    devices.forEach(function (device) {
      var option = document.createElement("option");
      option.value = device.asset_ref;
      option.label = kindName(device.kind);
      list.appendChild(option);
    });
  }

  // The job's device and those below it: kept from an earlier opening, fetched once a page.
  function below(li) {
    var incident = li.dataset.incident;
    var kept = null;
    try {
      kept = JSON.parse(window.localStorage.getItem(BELOW_KEY + incident) || "null");
    } catch (error) {
      kept = null;
    }
    if (kept) {
      offer(li, kept);
    }
    if (belowFetched[incident] || !navigator.onLine) {
      return;
    }
    belowFetched[incident] = true;
    fetch("/crew/jobs/" + encodeURIComponent(incident) + "/devices", { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (devices) {
        if (!devices) {
          delete belowFetched[incident];
          return;
        }
        offer(li, devices);
        try {
          window.localStorage.setItem(BELOW_KEY + incident, JSON.stringify(devices));
        } catch (error) {
          // Not kept: asked again next time.
        }
      }, function () { delete belowFetched[incident]; });
  }

  function reportFound(li, found) {
    var form = found.querySelector("form");
    var incident = Number(li.dataset.incident);
    var device = String(form.elements.device.value || "").trim();
    if (!device) {
      form.elements.device.focus();
      return;
    }
    var note = String(form.elements.note.value || "").trim();
    delete foundOutcomes[incident];
    if (enqueue(incident, [{ action: "confirm", body: patch("confirm", { device: device, reason: note }) }])) {
      form.reset();
      found.open = false;
    }
  }

  // --- switching reports ----------------------------------------------------------------

  var switchForm = document.getElementById("switch-form");
  var switchList = document.getElementById("switch-reports");
  var switchLog = queue().filter(function (item) { return item.kind === "switch"; });
  var outcomes = {};

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return "crew-" + Array.prototype.map.call(bytes, function (b) {
      return (b + 256).toString(16).slice(1);
    }).join("");
  }

  function moment(iso) {
    return window.OutageDates.dateTime(iso);
  }

  function switchState(item) {
    if (outcomes[item.id]) {
      return outcomes[item.id];
    }
    var inFlight = sending !== null && sending.id === item.id;
    return inFlight ? { state: "sending", text: T.crew_sending } : { state: "queued", text: T.crew_switch_queued };
  }

  function renderSwitches() {
    if (!switchList) {
      return;
    }
    switchList.textContent = "";
    switchLog.slice().reverse().forEach(function (item) {
      var shown = switchState(item);
      var li = document.createElement("li");
      li.className = "switch-report";
      li.id = "switch-" + item.id;
      li.dataset.state = shown.state;
      var what = document.createElement("strong");
      what.textContent = T["crew_switch_did." + item.action]
        .replace("{device}", item.body.asset_ref)
        .replace("{time}", moment(item.body.occurred_at));
      var state = document.createElement("span");
      state.className = "switch-state";
      state.textContent = shown.text;
      li.appendChild(what);
      li.appendChild(state);
      switchList.appendChild(li);
    });
  }

  function recorded(item, outcome) {
    outcomes[item.id] = {
      state: "recorded",
      text: T["crew_switch_recorded." + (outcome.is_open ? "open" : "closed")]
        .replace("{device}", outcome.asset_ref)
    };
  }

  function switchRefused(item, refused) {
    outcomes[item.id] = {
      state: "refused",
      text: refusalText("switch", refused, item.body.asset_ref)
    };
  }

  function problem(text) {
    var shown = document.getElementById("switch-problem");
    shown.textContent = text;
    shown.hidden = !text;
  }

  function reportSwitch(event) {
    event.preventDefault();
    var pressed = serviceTime(Date.now());
    var data = new FormData(switchForm);
    var device = String(data.get("asset_ref") || "").trim();
    if (!device) {
      problem(T.crew_switch_no_device);
      switchForm.elements.asset_ref.focus();
      return;
    }
    var given = String(data.get("occurred_at") || "");
    var at = given ? new Date(given) : pressed;
    if (isNaN(at.getTime()) || at.getTime() > pressed.getTime() + FUTURE_SLACK_MS) {
      problem(T.crew_switch_future);
      switchForm.elements.occurred_at.focus();
      return;
    }
    var action = String(data.get("action") || "open");
    var note = String(data.get("note") || "").trim();
    var reason = action === "fuse" ? (note ? FUSE_REPLACED + ": " + note : FUSE_REPLACED) : note;
    var body = { asset_ref: device, state: action === "open" ? "open" : "closed", occurred_at: at.toISOString() };
    if (reason) {
      body.reason = reason;
    }
    var item = { kind: "switch", id: newKey(), action: action, body: body };
    problem("");
    store(queue().concat([item]));
    switchLog.push(item);
    switchForm.reset();
    renderAll();
    flush();
  }

  // Suggestions beyond the devices near the jobs: a search as the crew types (online only).
  var searchTimer = null;

  function suggest(found) {
    var list = document.getElementById("switch-devices");
    list.querySelectorAll("option.found").forEach(function (option) { list.removeChild(option); });
    var listed = {};
    list.querySelectorAll("option").forEach(function (option) { listed[option.value] = true; });
    found.forEach(function (device) {
      if (listed[device.asset_ref]) {
        return;
      }
      var option = document.createElement("option");
      option.className = "found";
      option.value = device.asset_ref;
      option.label = kindName(device.kind) + " · " + T["crew_switch_is." + (device.is_open ? "open" : "closed")];
      list.appendChild(option);
    });
  }

  function search() {
    var text = switchForm.elements.asset_ref.value.trim();
    if (text.length < SEARCH_MIN_CHARS || !navigator.onLine) {
      return;
    }
    fetch("/api/v1/grid/switchable?q=" + encodeURIComponent(text), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.json() : []; })
      .then(suggest, function () { return null; });
  }

  if (switchForm) {
    switchForm.addEventListener("submit", reportSwitch);
    switchForm.elements.asset_ref.addEventListener("input", function () {
      window.clearTimeout(searchTimer);
      searchTimer = window.setTimeout(search, SEARCH_DELAY_MS);
    });
  }

  // --- damage assessed ---------------------------------------------------------------------
  //
  // The newest report of each place (a job, or "elsewhere") is shown beside its form:
  // queued, sending, then recorded or refused, with the time it was assessed.

  var DAMAGE_ELSEWHERE = "elsewhere";
  var damageOutcomes = {};
  var damageLast = {};

  function damageTarget(item) {
    return item.body.incident_id ? String(item.body.incident_id) : DAMAGE_ELSEWHERE;
  }

  function damagePlace(target) {
    return target === DAMAGE_ELSEWHERE ? document.getElementById("report-damage") : card(target);
  }

  queue().forEach(function (item) {
    if (item.kind === "damage") {
      damageLast[damageTarget(item)] = item.id;
    }
  });

  function renderDamage() {
    Object.keys(damageLast).forEach(function (target) {
      var place = damagePlace(target);
      var shown = place && place.querySelector(".damage-state");
      var key = damageLast[target];
      var item = queue().filter(function (other) { return other.id === key; })[0];
      var outcome = damageOutcomes[key];
      if (!shown || !(item || outcome)) {
        return;
      }
      if (item) {
        var state = sending !== null && sending.id === key ? "sending" : "queued";
        outcome = { state: state, text: T["crew_damage_" + state].replace("{time}", moment(item.body.assessed_at)) };
      }
      shown.dataset.state = outcome.state;
      shown.textContent = outcome.text;
      shown.hidden = false;
    });
  }

  function damageRecorded(item, body) {
    damageOutcomes[item.id] = {
      state: "recorded",
      text: T.crew_damage_recorded.replace("{time}", moment(body.assessed_at))
    };
  }

  function damageRefused(item, refused) {
    damageOutcomes[item.id] = { state: "refused", text: refusalText("damage", refused, "") };
  }

  function damageProblem(form, text) {
    var shown = form.querySelector(".damage-problem");
    shown.textContent = text;
    shown.hidden = !text;
  }

  function fileDamage(form, body) {
    var item = { kind: "damage", id: newKey(), body: body };
    damageLast[damageTarget(item)] = item.id;
    damageProblem(form, "");
    store(queue().concat([item]));
    form.reset();
    var details = form.closest("details");
    if (details) {
      details.open = false;
    }
    renderAll();
    flush();
  }

  function reportDamage(form) {
    var pressed = serviceTime(Date.now());
    if (!form.checkValidity()) {
      damageProblem(form, T.crew_damage_incomplete);
      return;
    }
    var data = new FormData(form);
    var body = {
      assessed_at: pressed.toISOString(),
      access: String(data.get("access")),
      crew_type_needed: String(data.get("crew_type_needed")),
      hours_needed: Number(data.get("hours_needed"))
    };
    form.querySelectorAll(".damage-counts input").forEach(function (count) {
      body[count.name] = Number(count.value) || 0;
    });
    var note = String(data.get("note") || "").trim();
    if (note) {
      body.note = note;
    }
    if (form.dataset.incident) {
      body.incident_id = Number(form.dataset.incident);
      fileDamage(form, body);
      return;
    }
    // Damage where no job is: where the phone is (the GPS answers without a network).
    if (!("geolocation" in navigator)) {
      damageProblem(form, T.crew_damage_no_position);
      return;
    }
    navigator.geolocation.getCurrentPosition(function (position) {
      body.location = {
        lat: Number(position.coords.latitude.toFixed(6)),
        lon: Number(position.coords.longitude.toFixed(6))
      };
      fileDamage(form, body);
    }, function () {
      damageProblem(form, T.crew_damage_no_position);
    }, { enableHighAccuracy: true, maximumAge: 60000, timeout: 20000 });
  }

  function bindDamage(form) {
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        reportDamage(form);
      });
    }
  }

  bindDamage(document.querySelector("#report-damage form.damage-form"));

  window.addEventListener("online", function () {
    failures = 0;
    window.clearTimeout(retryTimer);
    retryTimer = null;
    tell("");
    renderAll();
    flush();
    refresh();
  });

  window.addEventListener("offline", renderAll);

  // --- the job list kept fresh --------------------------------------------------------------
  //
  // The page is asked for again every POLL_MS while online (and on reconnecting, and when
  // the phone wakes it): new jobs are put in plan order and announced; a known job only
  // takes its new status and number, so a half-filled form and the scroll position stay.

  var banner = document.getElementById("crew-new-jobs");
  var polling = false;

  function dirty(li) {
    if (li.contains(document.activeElement)) {
      return true;
    }
    return Array.prototype.some.call(li.querySelectorAll("textarea, input[type=text], input[type=number], select"), function (field) {
      return field.value !== field.defaultValue && field.tagName !== "SELECT" || field.tagName === "SELECT" && field.selectedIndex > 0;
    });
  }

  function announce(added) {
    if (!banner || added.length === 0) {
      return;
    }
    var text = added.length === 1
      ? T.crew_new_job.replace("{title}", added[0].querySelector("h2").textContent)
      : T.crew_new_jobs.replace("{n}", String(added.length));
    banner.querySelector(".new-jobs-text").textContent = text;
    banner.querySelector("a").setAttribute("href", "#" + added[0].id);
    banner.hidden = false;
  }

  function anchor(list) {
    var cards = list.querySelectorAll(":scope > li.job");
    for (var i = 0; i < cards.length; i += 1) {
      if (cards[i].getBoundingClientRect().bottom > 0) {
        return cards[i];
      }
    }
    return null;
  }

  function merge(html) {
    var list = document.getElementById("jobs");
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("jobs");
    if (!list || !fresh) {
      return;
    }
    var kept = anchor(list);
    var keptTop = kept ? kept.getBoundingClientRect().top : 0;
    var seen = {};
    var added = [];
    var previous = null;
    Array.prototype.forEach.call(fresh.querySelectorAll(":scope > li.job"), function (next) {
      seen[next.id] = true;
      var li = document.getElementById(next.id);
      if (li) {
        // A page asked for before an answer came back is older than what the card shows.
        var newer = Number(next.dataset.version) >= Number(li.dataset.version);
        if (newer && pendingOf(li.dataset.incident).length === 0) {
          li.dataset.status = next.dataset.status;
          li.dataset.version = next.dataset.version;
        }
        li.querySelector("h2").textContent = next.querySelector("h2").textContent;
      } else {
        li = document.importNode(next, true);
        list.insertBefore(li, previous ? previous.nextSibling : list.firstChild);
        bind(li);
        added.push(li);
      }
      previous = li;
    });
    Array.prototype.forEach.call(list.querySelectorAll(":scope > li.job"), function (li) {
      if (!seen[li.id] && pendingOf(li.dataset.incident).length === 0 && !dirty(li)) {
        list.removeChild(li);
      }
    });
    var none = document.getElementById("no-jobs");
    if (none) {
      none.hidden = list.querySelector(":scope > li.job") !== null;
    }
    if (kept && document.body.contains(kept)) {
      window.scrollBy(0, kept.getBoundingClientRect().top - keptTop);
    }
    announce(added);
    renderAll();
  }

  function refresh() {
    if (polling || stopped || !navigator.onLine || document.hidden) {
      return;
    }
    polling = true;
    fetch("/crew?lang=" + encodeURIComponent(document.documentElement.lang), {
      credentials: "same-origin",
      headers: { Accept: "text/html" }
    }).then(function (answer) {
      // Signed out meanwhile: the answer is the login page, which holds no jobs.
      return answer.ok && !answer.redirected ? answer.text() : null;
    }).then(function (html) {
      polling = false;
      if (html) {
        merge(html);
      }
    }, function () { polling = false; });
  }

  if (banner) {
    banner.querySelector("a").addEventListener("click", function () { banner.hidden = true; });
  }

  window.setInterval(refresh, POLL_MS);
  document.addEventListener("visibilitychange", refresh);

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
      recorded_at: serviceTime(position.timestamp || Date.now()).toISOString()
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
