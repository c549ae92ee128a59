/* The dispatcher's incident list, fit for a storm: one line per incident in a table that
   scrolls on its own, totals that filter, filters and a search kept for the browser tab
   (sessionStorage), and each row opening its facts, photos, meters asked (per
   transformer), actions and restoration plans. A row whose meters were asked shows a
   badge: those still waiting for an answer ("⏳ n") and those that answered on and off.

   The order is the dispatcher's: by priority (hazards, then customers out, then age) when
   the page loads and when they press "re-sort". The polls never move a row: changed rows
   are updated in place and flash, new ones are added at the end marked "new", gone ones
   stay greyed out, and a row whose actions form is open is left alone, until the next
   re-sort. The actions shown are exactly those the server lists as valid now (`actions`);
   every change is a PATCH with the incident's `version`, so a stale row is refused.

   Text from the data (addresses, causes, names) only ever becomes textContent. */
(function () {
  "use strict";

  var M = window.OutageMaps;
  var D = M.dispatch;
  var t = M.t;
  var el = M.el;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var canAct = Boolean(M.config.can_act);

  var STORE = "dispatch-console";
  var ETR_MAX_DAYS = 30;
  var FLASH_MS = 4000;
  var NEARBY_KM = 3;
  /* The actions in the order their buttons are shown. */
  var ACTIONS = [
    "confirm", "assign", "unassign", "en_route", "on_site", "set_etr", "set_cause",
    "partial_restore", "restored", "restored_by_switching", "move", "split", "merge", "cancel",
    "close",
  ];
  var FORMS = {
    assign: assignForm,
    set_etr: etrForm,
    set_cause: causeForm,
    partial_restore: partialForm,
    restored: restoredForm,
    move: moveForm,
    split: splitForm,
    merge: mergeForm,
    cancel: cancelForm,
  };

  var features = {}; /* id -> the feature as last read (gone ones kept until a re-sort) */
  var signatures = {};
  var gone = {};
  var order = []; /* ids in the order shown */
  var shown = {}; /* ids matching the filters at the last sort, and new matching ones */
  var rows = {}; /* id -> {row, detail, shows}: built once, updated in place; `shows` is
                    the signature the detail was built from */
  var notes = {}; /* id -> the outcome of the last action, kept across refreshes */
  var added = {}; /* ids new since the last sort */
  var loaded = false;
  var changes = 0;
  var filters = readFilters();

  var tbody = document.getElementById("incident-rows");
  var form = document.getElementById("filters");
  var groupRow = null;

  function has(key) {
    return t(key) !== key;
  }

  function words(key, values) {
    return D.words(key, values);
  }

  /* --- what an incident is --------------------------------------------------------------- */

  function isHazard(p) {
    return Boolean(p.hazard) || p.kind === "hazard";
  }

  /* A single customer's outage (no device, a premise): listed in their own group. */
  function isService(p) {
    return p.kind === "outage" && !p.device && !p.parent_id && (Boolean(p.address) || !isHazard(p));
  }

  function crewOf(p) {
    return p.crew_id ? p.crew_name || D.crewName(p.crew_id) : "";
  }

  function priority(a, b) {
    var pa = features[a].properties, pb = features[b].properties;
    if (isHazard(pa) !== isHazard(pb)) return isHazard(pa) ? -1 : 1;
    if (pa.customers_affected !== pb.customers_affected) return pb.customers_affected - pa.customers_affected;
    return pa.started_at < pb.started_at ? -1 : pa.started_at > pb.started_at ? 1 : pa.id - pb.id;
  }

  function age(iso) {
    var minutes = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
    if (minutes < 60) return words("age_minutes", { n: minutes });
    if (minutes < 48 * 60) return words("age_hours", { h: Math.floor(minutes / 60), m: String(minutes % 60).padStart(2, "0") });
    return words("age_days", { n: Math.floor(minutes / 1440) });
  }

  /* --- filters ---------------------------------------------------------------------------- */

  function readFilters() {
    try {
      var kept = JSON.parse(window.sessionStorage.getItem(STORE) || "{}");
      return kept && typeof kept === "object" ? kept : {};
    } catch (problem) {
      return {};
    }
  }

  function keepFilters() {
    try {
      window.sessionStorage.setItem(STORE, JSON.stringify(filters));
    } catch (problem) {
      /* private mode: the filters last as long as the page */
    }
  }

  function searchable(p) {
    return [p.device ? p.device.asset_ref : "", p.address || "", "#" + p.id, String(p.id)]
      .concat(p.tickets || [])
      .join("\n")
      .toLowerCase();
  }

  function matches(p) {
    if (filters.state && p.status !== filters.state) return false;
    if (filters.hazard && !isHazard(p)) return false;
    if (filters.unassigned && p.crew_id) return false;
    if (filters.feeder && p.feeder !== filters.feeder) return false;
    if (filters.crew && String(p.crew_id) !== filters.crew) return false;
    var q = (filters.q || "").trim().toLowerCase();
    return !q || searchable(p).indexOf(q) >= 0;
  }

  function showFilters() {
    form.elements.q.value = filters.q || "";
    form.elements.state.value = filters.state || "";
    form.elements.hazard.checked = Boolean(filters.hazard);
    form.elements.unassigned.checked = Boolean(filters.unassigned);
    fillSelect(form.elements.feeder, feederOptions(), filters.feeder);
    fillSelect(form.elements.crew, crewOptions(), filters.crew);
  }

  function setFilters(next) {
    filters = next;
    keepFilters();
    showFilters();
    resort();
  }

  /* A select's options after its first ("any"), kept when they have not changed. */
  function fillSelect(select, options, value) {
    var signature = JSON.stringify(options);
    if (select.dataset.options !== signature) {
      while (select.options.length > 1) select.remove(1);
      options.forEach(function (pair) {
        var option = el("option", null, pair[1]);
        option.value = pair[0];
        select.appendChild(option);
      });
      select.dataset.options = signature;
    }
    select.value = value || "";
    if (select.value !== (value || "")) {
      var missing = el("option", null, value);
      missing.value = value;
      select.appendChild(missing);
      select.value = value;
    }
  }

  function feederOptions() {
    var names = {};
    Object.keys(features).forEach(function (id) {
      var feeder = features[id].properties.feeder;
      if (feeder) names[feeder] = true;
    });
    return Object.keys(names).sort().map(function (name) { return [name, name]; });
  }

  function crewOptions() {
    return D.crews()
      .map(function (c) { return c.properties; })
      .filter(function (c) { return c.on_shift; })
      .sort(function (a, b) { return a.name.localeCompare(b.name); })
      .map(function (c) { return [String(c.id), c.name]; });
  }

  form.addEventListener("input", function () {
    setFilters({
      q: form.elements.q.value,
      state: form.elements.state.value,
      hazard: form.elements.hazard.checked,
      unassigned: form.elements.unassigned.checked,
      feeder: form.elements.feeder.value,
      crew: form.elements.crew.value,
      group: form.elements.q.value.trim() ? true : filters.group, /* a search shows what it found */
    });
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function (event) {
    event.preventDefault();
    setFilters({ group: filters.group });
  });

  /* --- totals ----------------------------------------------------------------------------- */

  /* Built once and updated in place, so a poll never takes the focus off a count. */
  var STATES = ["predicted", "confirmed", "dispatched", "en_route", "on_site", "partially_restored"];
  var totals = buildTotals();

  function total(tag, className, label) {
    var node = el(tag, "total " + className, label + " ");
    var count = el("strong");
    node.appendChild(count);
    if (tag === "button") node.type = "button";
    return { node: node, count: count };
  }

  function quick(made, next) {
    made.node.addEventListener("click", function () {
      var chosen = next();
      chosen.group = filters.group;
      setFilters(chosen);
    });
    return made;
  }

  function buildTotals() {
    var box = document.getElementById("totals");
    var head = el("div", "totals-head");
    var made = {
      out: total("span", "total-out", t("total_out")),
      free: total("span", "total-free", t("total_crews_free")),
      busy: total("span", "total-busy", t("total_crews_busy")),
      hazards: quick(total("button", "total-hazards", t("total_unassigned_hazards")), function () {
        return { hazard: true, unassigned: true };
      }),
      states: {},
    };
    [made.out, made.free, made.busy, made.hazards].forEach(function (one) { head.appendChild(one.node); });
    var states = el("div", "totals-states");
    STATES.forEach(function (status) {
      var one = quick(total("button", "total-state", t("status_" + status)), function () {
        return { state: status };
      });
      one.node.dataset.state = status;
      made.states[status] = one;
      states.appendChild(one.node);
    });
    box.appendChild(head);
    box.appendChild(states);
    return made;
  }

  function renderTotals() {
    var out = 0, hazards = 0, free = 0, busy = 0;
    var byState = {};
    order.forEach(function (id) {
      if (gone[id]) return;
      var p = features[id].properties;
      out += p.customers_affected;
      byState[p.status] = (byState[p.status] || 0) + 1;
      if (isHazard(p) && !p.crew_id) hazards += 1;
    });
    D.crews().forEach(function (c) {
      if (!c.properties.on_shift) return;
      if (c.properties.status === "available") free += 1;
      else busy += 1;
    });
    totals.out.count.textContent = String(out);
    totals.free.count.textContent = String(free);
    totals.busy.count.textContent = String(busy);
    totals.hazards.count.textContent = String(hazards);
    totals.hazards.node.classList.toggle("alarm", hazards > 0);
    totals.hazards.node.setAttribute("aria-pressed", String(Boolean(filters.hazard && filters.unassigned && !filters.state)));
    STATES.forEach(function (status) {
      var one = totals.states[status];
      one.count.textContent = String(byState[status] || 0);
      one.node.setAttribute("aria-pressed", String(filters.state === status));
    });
  }

  /* --- rows ------------------------------------------------------------------------------- */

  var COLUMNS = ["c-marks", "c-title", "c-state", "c-number", "c-crew", "c-etr", "c-age"];

  /* The row's cells are made once; a change rewrites their text, so the title button (and
     the keyboard's focus on it) stays. */
  function fillRow(row, p) {
    var changing = row.classList.contains("changed");
    row.className = "incident-row status-" + p.status + (isHazard(p) ? " hazard" : "") + (isService(p) ? " service" : "");
    if (gone[p.id]) row.classList.add("gone");
    if (added[p.id]) row.classList.add("new");
    if (changing) row.classList.add("changed");
    var marks = row.querySelector(".c-marks");
    marks.textContent = "";
    if (isHazard(p)) {
      var mark = el("span", "hazard-mark", "▲");
      mark.setAttribute("aria-hidden", "true");
      marks.appendChild(mark);
      marks.appendChild(el("span", "visually-hidden", t("hazard") + (p.hazard ? ": " + t("hazard_" + p.hazard) : "")));
    }
    marks.appendChild(el("span", "new-mark", t("row_new")));
    var title = row.querySelector(".locate");
    title.querySelector(".title-text").textContent = D.title(p);
    title.title = D.title(p) + " #" + p.id;
    row.querySelector(".c-state").textContent = gone[p.id] ? t("row_gone") : t("status_" + p.status);
    row.querySelector(".c-number").textContent = String(p.customers_affected);
    row.querySelector(".c-crew").textContent = crewOf(p) || "—";
    row.querySelector(".c-etr").textContent = p.etr ? M.time(p.etr) : "—";
    row.querySelector(".c-age").textContent = age(p.started_at);
    pingBadge(title, p.pings);
  }

  /* The meters asked about the incident: "⏳ n" while some wait for an answer, and how
     many answered on and off once any answered, after the title (in its button, so it
     is read with it); the whole count for screen readers. */
  function pingBadge(title, pings) {
    var badge = title.querySelector(".ping-badge");
    title.classList.toggle("pinged", Boolean(pings));
    if (!pings) {
      if (badge) badge.remove();
      return;
    }
    if (!badge) badge = title.appendChild(el("span", "ping-badge"));
    badge.textContent = "";
    var parts = [];
    if (pings.pending) parts.push(["ping-pending", "ping_badge_pending", pings.pending]);
    if (pings.on + pings.off + pings.silent) {
      parts.push(["ping-on", "ping_badge_on", pings.on]);
      parts.push(["ping-off", "ping_badge_off", pings.off]);
    }
    parts.forEach(function (part) {
      var shown = el("span", part[0], words(part[1], { n: part[2] }));
      shown.setAttribute("aria-hidden", "true");
      badge.appendChild(shown);
    });
    badge.appendChild(el("span", "visually-hidden", t("pings") + ": " + D.pingCounts(pings)));
    badge.title = t("pings") + ": " + D.pingCounts(pings);
  }

  function makeRow(id) {
    var row = el("tr");
    row.id = "incident-" + id;
    row.dataset.id = String(id);
    COLUMNS.forEach(function (className) { row.appendChild(el("td", className)); });
    var title = el("button", "locate");
    title.type = "button";
    title.setAttribute("aria-expanded", "false");
    title.setAttribute("aria-controls", "incident-" + id + "-detail");
    title.appendChild(el("span", "title-text"));
    title.appendChild(el("span", "ref", " #" + id));
    row.querySelector(".c-title").appendChild(title);
    row.addEventListener("click", function (event) {
      if (event.target.closest("button") && !event.target.closest(".locate")) return;
      toggle(id);
    });
    rows[id] = { row: row, detail: null };
    fillRow(row, features[id].properties);
    return rows[id];
  }

  function flash(row, className) {
    row.classList.add(className);
    window.setTimeout(function () { row.classList.remove(className); }, FLASH_MS);
  }

  function toggle(id) {
    var entry = rows[id];
    if (entry.detail) {
      if (entry.detail.classList.contains("editing")) return;
      entry.detail.remove();
      entry.detail = null;
    } else {
      entry.detail = el("tr", "detail");
      entry.detail.id = "incident-" + id + "-detail";
      fillDetail(id);
      entry.row.after(entry.detail);
      if (!gone[id]) D.focus(id);
    }
    entry.row.querySelector(".locate").setAttribute("aria-expanded", entry.detail ? "true" : "false");
  }

  /* --- the detail row: facts, photos, actions, plans ------------------------------------- */

  function fillDetail(id) {
    var detail = rows[id].detail;
    var p = features[id].properties;
    rows[id].shows = signatures[id];
    detail.textContent = "";
    detail.classList.remove("editing");
    var td = el("td");
    td.colSpan = 7;
    td.appendChild(D.facts(p));
    if (p.photo_count) td.appendChild(D.photosSection(p));
    if (p.pings) td.appendChild(pingsSection(p.id));
    var outcome = el("p", "outcome", notes[id] || "");
    outcome.setAttribute("role", "status");
    if (canAct && !gone[id]) actionsBar(td, p, outcome);
    td.appendChild(outcome);
    if (D.plannable(p) && !gone[id]) td.appendChild(D.plansSection(p));
    detail.appendChild(td);
  }

  /* The meters asked, per transformer, read from the incident's detail
     (GET /api/v1/incidents/{id}) each time the detail is filled. */
  function pingsSection(id) {
    var section = el("section", "pings");
    section.appendChild(el("h3", null, t("pings_title")));
    var note = el("p", "loading", t("pings_loading"));
    section.appendChild(note);
    M.fetchJson("/api/v1/incidents/" + encodeURIComponent(id))
      .then(function (found) {
        note.remove();
        if (found.pings) section.appendChild(pingsTable(found.pings));
      })
      .catch(function () {
        note.textContent = t("pings_failed");
      });
    return section;
  }

  var PING_COLUMNS = ["pings_transformer", "ping_on", "ping_off", "ping_silent", "ping_pending", "pings_reason", "pings_last_answer"];

  function pingsTable(pings) {
    var table = el("table", "ping-table");
    table.appendChild(el("caption", "visually-hidden", t("pings_title")));
    var head = el("tr");
    PING_COLUMNS.forEach(function (key) {
      var th = el("th", null, t(key));
      th.scope = "col";
      head.appendChild(th);
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = table.appendChild(el("tbody"));
    pings.transformers.forEach(function (one) {
      var row = el("tr", "ping-transformer");
      row.dataset.transformer = one.transformer || "";
      var name = el("th", null, one.transformer || t("pings_no_transformer"));
      name.scope = "row";
      row.appendChild(name);
      [one.on, one.off, one.silent, one.pending].forEach(function (n, i) {
        row.appendChild(el("td", "ping-count " + ["ping-on", "ping-off", "ping-silent", "ping-pending"][i], String(n)));
      });
      row.appendChild(el("td", "ping-reasons", one.reasons.map(function (r) { return t("ping_reason_" + r); }).join(", ")));
      row.appendChild(el("td", "ping-last", one.last_answer_at ? M.time(one.last_answer_at) : "—"));
      body.appendChild(row);
    });
    return table;
  }

  function actionsBar(td, p, outcome) {
    var bar = el("div", "actions");
    var slot = el("div", "action-form");
    var detail = rows[p.id].detail;
    var valid = p.actions || [];
    ACTIONS.filter(function (name) { return valid.indexOf(name) >= 0; }).forEach(function (name) {
      var button = el("button", "secondary action-" + name, t("action_" + name));
      button.type = "button";
      button.dataset.action = name;
      button.addEventListener("click", function () {
        if (!FORMS[name]) {
          act(p, { action: name }, outcome);
          return;
        }
        slot.textContent = "";
        var made = FORMS[name](p, outcome, close);
        slot.appendChild(made);
        detail.classList.add("editing");
        var first = made.querySelector("select, input, button");
        if (first) first.focus();
      });
      bar.appendChild(button);
    });
    /* The form is done with: the detail catches up with what a poll brought meanwhile. */
    function close() {
      slot.textContent = "";
      detail.classList.remove("editing");
      if (rows[p.id] && rows[p.id].detail === detail && rows[p.id].shows !== signatures[p.id]) fillDetail(p.id);
    }
    td.appendChild(bar);
    td.appendChild(slot);
  }

  /* A small form: a label and field (or none), "save" and "cancel"; `body` answers the
     PATCH's body or an error message (a string). */
  function editor(p, outcome, close, label, field, body, saveLabel) {
    var box = el("form", "editor");
    box.noValidate = true; /* our own words, in the page's language */
    var error = el("p", "field-error");
    error.setAttribute("role", "alert");
    if (field) {
      var name = "f-" + p.id + "-" + label;
      var caption = el("label", null, t(label));
      caption.htmlFor = name;
      field.id = name;
      box.appendChild(caption);
      box.appendChild(field);
    } else {
      box.appendChild(el("p", "confirm-question", t(label)));
    }
    var save = el("button", "primary", t(saveLabel || "save"));
    save.type = "submit";
    var cancel = el("button", "secondary", t("cancel_edit"));
    cancel.type = "button";
    box.appendChild(save);
    box.appendChild(cancel);
    box.appendChild(error);
    box.addEventListener("submit", function (event) {
      event.preventDefault();
      var made = body();
      error.textContent = typeof made === "string" ? made : "";
      if (typeof made === "string") return;
      save.disabled = true;
      act(p, made, outcome).then(function (ok) {
        save.disabled = false;
        if (ok) close();
      });
    });
    cancel.addEventListener("click", close);
    return box;
  }

  function selectOf(options) {
    var select = el("select");
    options.forEach(function (pair) {
      var option = el("option", null, pair[1]);
      option.value = pair[0];
      select.appendChild(option);
    });
    return select;
  }

  function assignForm(p, outcome, close) {
    var crews = D.crews()
      .map(function (c) { return c.properties; })
      .filter(function (c) { return c.on_shift && c.id !== p.crew_id; })
      .sort(function (a, b) {
        var fa = a.status === "available", fb = b.status === "available";
        return fa !== fb ? (fa ? -1 : 1) : a.name.localeCompare(b.name);
      });
    var select = selectOf(crews.map(function (c) {
      return [String(c.id), c.name + " · " + t("crew_" + c.status)];
    }));
    return editor(p, outcome, close, "choose_crew", select, function () {
      return select.value ? { action: "assign", crew_id: Number(select.value) } : t("crew_none_free");
    });
  }

  function localInput(date) {
    var shifted = new Date(date.getTime() - date.getTimezoneOffset() * 60000);
    return shifted.toISOString().slice(0, 16);
  }

  function etrForm(p, outcome, close) {
    var input = el("input");
    input.type = "datetime-local";
    var now = new Date();
    var latest = new Date(now.getTime() + ETR_MAX_DAYS * 86400000);
    input.min = localInput(now);
    input.max = localInput(latest);
    input.required = true;
    return editor(p, outcome, close, "etr_at", input, function () {
      var at = new Date(input.value);
      if (!input.value || isNaN(at.getTime())) return t("etr_missing");
      if (at.getTime() <= Date.now()) return t("etr_past");
      if (at.getTime() > Date.now() + ETR_MAX_DAYS * 86400000) return words("etr_too_far", { max: M.time(latest.toISOString()) });
      return { action: "set_etr", etr: at.toISOString() };
    });
  }

  function causeForm(p, outcome, close) {
    var select = selectOf(M.config.causes || []);
    if (p.cause) select.value = p.cause;
    return editor(p, outcome, close, "cause", select, function () {
      return { action: "set_cause", cause: select.value };
    });
  }

  function partialForm(p, outcome, close) {
    var input = el("input");
    input.type = "number";
    input.min = "1";
    input.max = String(Math.max(1, p.customers_affected));
    input.required = true;
    return editor(p, outcome, close, "restored_customers", input, function () {
      var n = Number(input.value);
      return n >= 1 && Math.floor(n) === n ? { action: "partial_restore", restored_customers: n } : t("restored_customers_needed");
    });
  }

  function restoredForm(p, outcome, close) {
    return editor(p, outcome, close, "restored_sure", null, function () {
      return { action: "restored" };
    }, "restored_yes");
  }

  /* A required line of text: a device's asset ref (200 at most) or a reason (2000). */
  function textInput(maxLength) {
    var input = el("input");
    input.type = "text";
    input.maxLength = maxLength;
    input.required = true;
    input.autocomplete = "off";
    return input;
  }

  function moveForm(p, outcome, close) {
    var input = textInput(200);
    return editor(p, outcome, close, "move_to", input, function () {
      var ref = input.value.trim();
      return ref ? { action: "move", device: ref } : t("move_needed");
    });
  }

  /* Some of the incident's reports go to a new incident at another device: the reports
     are read from the incident's detail (GET /api/v1/incidents/{id}) when the form opens. */
  function splitForm(p, outcome, close) {
    var input = textInput(200);
    var chosen = el("fieldset", "split-reports");
    chosen.appendChild(el("legend", null, t("split_reports")));
    var loading = el("p", "loading", t("split_loading"));
    chosen.appendChild(loading);
    var box = editor(p, outcome, close, "split_to", input, function () {
      var ref = input.value.trim();
      var ids = Array.prototype.map.call(chosen.querySelectorAll("input:checked"), function (box) {
        return Number(box.value);
      });
      if (!ref) return t("move_needed");
      if (!ids.length) return t("split_none_chosen");
      return { action: "split", device: ref, reports: ids };
    });
    box.insertBefore(chosen, box.querySelector("button"));
    M.fetchJson("/api/v1/incidents/" + encodeURIComponent(p.id))
      .then(function (found) {
        loading.remove();
        found.reports.forEach(function (report) {
          var name = "split-" + p.id + "-" + report.id;
          var row = el("div", "split-report");
          var check = el("input");
          check.type = "checkbox";
          check.id = name;
          check.value = String(report.id);
          var label = el("label", null, report.ticket + " · " + M.time(report.received_at) + (report.address ? " · " + report.address : ""));
          label.htmlFor = name;
          row.appendChild(check);
          row.appendChild(label);
          chosen.appendChild(row);
        });
      })
      .catch(function () {
        loading.textContent = t("split_failed");
      });
    return box;
  }

  function cancelForm(p, outcome, close) {
    var input = textInput(2000);
    return editor(p, outcome, close, "cancel_reason", input, function () {
      var reason = input.value.trim();
      return reason ? { action: "cancel", reason: reason } : t("cancel_reason_needed");
    });
  }

  function place(feature) {
    var c = feature.geometry && feature.geometry.coordinates;
    while (Array.isArray(c) && Array.isArray(c[0])) c = c[0];
    return Array.isArray(c) && c.length >= 2 ? c : null;
  }

  function km(a, b) {
    var rad = Math.PI / 180;
    var x = (b[0] - a[0]) * rad * Math.cos(((a[1] + b[1]) / 2) * rad);
    var y = (b[1] - a[1]) * rad;
    return Math.sqrt(x * x + y * y) * 6371;
  }

  /* Incidents this one could take in (those the server says may be merged away): on its
     feeder or within a few km, nearest first. */
  function mergeCandidates(p) {
    var here = place(features[p.id]);
    return order
      .filter(function (id) { return id !== p.id && !gone[id] && features[id].properties.mergeable; })
      .map(function (id) {
        var there = place(features[id]);
        var q = features[id].properties;
        var distance = here && there ? km(here, there) : Infinity;
        return { p: q, distance: p.feeder && q.feeder === p.feeder ? Math.min(distance, 0) : distance };
      })
      .filter(function (c) { return c.distance <= NEARBY_KM; })
      .sort(function (a, b) { return a.distance - b.distance || a.p.id - b.p.id; })
      .slice(0, 30);
  }

  function mergeForm(p, outcome, close) {
    var select = selectOf(mergeCandidates(p).map(function (c) {
      return [String(c.p.id), D.title(c.p) + " #" + c.p.id + " · " + t("status_" + c.p.status)];
    }));
    return editor(p, outcome, close, "merge_which", select, function () {
      return select.value ? { action: "merge", merged_id: Number(select.value) } : t("merge_none");
    });
  }

  /* --- acting ------------------------------------------------------------------------------ */

  /* What a refusal says to the dispatcher: a known code's words, else the status's, else
     the server's own detail. */
  function refusal(status, data) {
    var code = data && typeof data.code === "string" ? data.code : "";
    if (code && has("error_" + code)) return t("error_" + code);
    if (has("error_" + status)) return t("error_" + status);
    var detail = data && typeof data.detail === "string" ? data.detail : String(status);
    return words("error_refused", { detail: detail });
  }

  /* PATCH the incident; resolves to whether it was done. */
  function act(p, body, outcome) {
    body.expected_version = p.version;
    if (body.expected_version === undefined || body.expected_version === null) delete body.expected_version;
    var row = rows[p.id];
    row.row.classList.add("busy");
    outcome.textContent = "";
    function say(text) {
      notes[p.id] = text;
      outcome.textContent = text;
    }
    return fetch("/api/v1/incidents/" + encodeURIComponent(p.id), {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    })
      .then(function (answer) {
        return answer.json().then(
          function (data) { return { answer: answer, data: data }; },
          function () { return { answer: answer, data: null }; }
        );
      })
      .then(function (got) {
        if (got.answer.ok) {
          say(t("done") + ": " + t("action_" + body.action));
          D.refresh("incidents");
          D.refresh("areas");
          return true;
        }
        say(refusal(got.answer.status, got.data));
        if (got.answer.status === 409) D.refresh("incidents");
        return false;
      }, function () {
        say(t("error_network"));
        return false;
      })
      .finally(function () {
        row.row.classList.remove("busy");
      });
  }

  /* --- the list: sorted on demand, updated in place --------------------------------------- */

  function members(ids) {
    return ids.filter(function (id) { return isService(features[id].properties); });
  }

  function groupOpen() {
    return Boolean(filters.group);
  }

  function makeGroupRow() {
    var row = el("tr", "group-row");
    row.id = "service-group";
    var td = el("td");
    td.colSpan = 7;
    var button = el("button", "group-toggle");
    button.type = "button";
    button.addEventListener("click", function () {
      filters.group = !filters.group;
      keepFilters();
      showGroup();
    });
    td.appendChild(button);
    row.appendChild(td);
    return row;
  }

  function showGroup() {
    var ids = members(order.filter(function (id) { return shown[id]; }));
    if (!groupRow) groupRow = makeGroupRow();
    groupRow.hidden = ids.length === 0;
    var button = groupRow.querySelector("button");
    button.textContent = words("service_group", { n: ids.length });
    button.setAttribute("aria-expanded", groupOpen() ? "true" : "false");
    ids.forEach(function (id) {
      rows[id].row.hidden = !groupOpen();
      if (rows[id].detail) rows[id].detail.hidden = !groupOpen();
    });
  }

  function placeRow(id) {
    var entry = rows[id] || makeRow(id);
    if (isService(features[id].properties)) {
      tbody.appendChild(entry.row);
    } else {
      tbody.insertBefore(entry.row, groupRow);
    }
    if (entry.detail) entry.row.after(entry.detail);
  }

  function resort() {
    Object.keys(gone).forEach(function (id) {
      if (rows[id] && rows[id].detail && rows[id].detail.classList.contains("editing")) return;
      delete features[id];
      delete signatures[id];
      delete rows[id];
      delete notes[id];
      delete gone[id];
      D.dropPlans(id);
    });
    order = Object.keys(features).map(Number).sort(priority);
    shown = {};
    order.forEach(function (id) { if (matches(features[id].properties)) shown[id] = true; });
    tbody.textContent = "";
    if (!groupRow) groupRow = makeGroupRow();
    tbody.appendChild(groupRow);
    added = {};
    order.forEach(function (id) {
      if (!shown[id]) return;
      placeRow(id);
      rows[id].row.classList.remove("new", "changed");
    });
    changes = 0;
    showGroup();
    renderCounts();
    renderTotals();
  }

  function renderCounts() {
    var active = order.filter(function (id) { return !gone[id]; });
    var showing = active.filter(function (id) { return shown[id]; });
    document.getElementById("list-count").textContent = words("showing", { n: showing.length, m: active.length });
    document.getElementById("list-changes").textContent = changes ? words("changes", { n: changes }) : "";
    document.getElementById("resort").classList.toggle("pending", changes > 0);
    document.getElementById("panel-empty").hidden = active.length > 0;
  }

  function update(data) {
    var fresh = {};
    (data.features || []).forEach(function (feature) { fresh[feature.properties.id] = feature; });
    if (!loaded) {
      loaded = true;
      Object.keys(fresh).forEach(function (id) {
        features[id] = fresh[id];
        signatures[id] = JSON.stringify(fresh[id]);
      });
      showFilters();
      resort();
      return;
    }
    Object.keys(fresh).forEach(function (key) {
      var id = Number(key);
      var signature = JSON.stringify(fresh[key]);
      if (signatures[key] === signature && !gone[key]) return;
      var known = Object.prototype.hasOwnProperty.call(features, key);
      features[key] = fresh[key];
      signatures[key] = signature;
      delete gone[key];
      changes += 1;
      if (!known) {
        order.push(id);
        if (!matches(fresh[key].properties)) return;
        shown[id] = true;
        added[id] = true;
        placeRow(id);
        rows[id].row.classList.add("new");
        flash(rows[id].row, "changed");
        return;
      }
      if (!rows[id]) return;
      var editing = rows[id].detail && rows[id].detail.classList.contains("editing");
      fillRow(rows[id].row, fresh[key].properties);
      if (rows[id].detail && !editing) fillDetail(id);
      flash(rows[id].row, "changed");
    });
    Object.keys(features).forEach(function (key) {
      if (Object.prototype.hasOwnProperty.call(fresh, key) || gone[key]) return;
      gone[key] = true;
      changes += 1;
      if (!rows[key]) return;
      fillRow(rows[key].row, features[key].properties);
      if (rows[key].detail && !rows[key].detail.classList.contains("editing")) fillDetail(Number(key));
    });
    fillSelect(form.elements.feeder, feederOptions(), filters.feeder);
    showGroup();
    renderCounts();
    renderTotals();
  }

  /* The ages and the crews' names go stale without a change to the incidents. */
  function refreshCells() {
    Object.keys(rows).forEach(function (id) {
      if (!features[id]) return;
      var p = features[id].properties;
      rows[id].row.querySelector(".c-age").textContent = age(p.started_at);
      rows[id].row.querySelector(".c-crew").textContent = crewOf(p) || "—";
    });
  }

  document.getElementById("resort").addEventListener("click", resort);

  D.listen("incidents", function (data) {
    update(data);
    refreshCells();
    document.getElementById("panel-updated").textContent = t("panel_updated") + " " + M.time(new Date().toISOString());
  });
  D.listen("crews", function () {
    fillSelect(form.elements.crew, crewOptions(), filters.crew);
    if (loaded) {
      refreshCells();
      renderTotals();
    }
  });
})();
