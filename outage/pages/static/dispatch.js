/* The dispatcher's live map: how its layers look, their popups, what the incident list
   (dispatch-list.js, loaded next) shares with them (`OutageMaps.dispatch`: titles, crews'
   names, facts, photos, restoration plans), and the panel of the
   devices out of their normal state (GET /api/v1/grid/abnormal, read again whenever the
   network layer is), each focusing the map on its device, with "return to normal"
   drafting the order (POST /api/v1/switching/orders/return-to-normal).

   Loaded before the map's own script (built by folium), which calls the functions of
   `OutageDispatch` for every feature. Text from the data (customers' descriptions,
   names) only ever becomes textContent. */
(function () {
  "use strict";

  var M = window.OutageMaps;
  var S = window.OutageSymbols;
  var t = M.t;
  var el = M.el;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var canDraft = Boolean(M.config.can_draft);

  var POPUP = { minWidth: 240, maxWidth: 360 };
  var listeners = {};
  var crews = [];
  var layersById = {};
  var deviceLayers = {};
  var fitted = false;

  function listen(key, callback) {
    (listeners[key] = listeners[key] || []).push(callback);
  }

  function statusText(status) {
    return t("status_" + status);
  }

  /* "Fuse F1-T3": the kind's word (lower case, as in a sentence) leads, so it is capitalised. */
  function deviceName(device) {
    var kind = t("device_" + device.kind);
    return kind.charAt(0).toLocaleUpperCase(M.config.lang) + kind.slice(1) + " " + device.asset_ref;
  }

  /* What the dispatcher calls an incident: its device, the premise's address for a single
     service, the kind of an unplaced hazard; its number only when nothing else says it. */
  function incidentTitle(p) {
    if (p.device) return deviceName(p.device);
    if (p.address) return p.address;
    if (p.hazard) return t("titled_hazard").replace("{kind}", t("hazard_" + p.hazard));
    return t("incident") + " #" + p.id;
  }

  var CAUSES = {};
  (M.config.causes || []).forEach(function (pair) { CAUSES[pair[0]] = pair[1]; });

  function causeName(cause) {
    return Object.prototype.hasOwnProperty.call(CAUSES, cause) ? CAUSES[cause] : cause;
  }

  /* What the meters asked about it answered: "3 on · 1 off · 0 no answer · 2 pending". */
  function pingCounts(pings) {
    return words("pings_counts", { on: pings.on, off: pings.off, silent: pings.silent, pending: pings.pending });
  }

  function incidentFacts(p) {
    return M.facts([
      [t("incident"), "#" + p.id],
      [t("status"), statusText(p.status)],
      [t("hazard"), p.hazard ? t("hazard_" + p.hazard) : null],
      [t("device"), p.device ? deviceName(p.device) : null],
      [t("feeder"), p.feeder],
      [t("customers"), p.customers_affected],
      [t("reports"), p.report_count],
      [t("confidence"), Math.round(p.confidence * 100) + " %"],
      [t("started"), M.time(p.started_at)],
      [t("etr"), p.etr ? M.etr(p) : t("etr_unknown")],
      [t("crew"), p.crew_id ? p.crew_name || crewName(p.crew_id) : t("no_crew")],
      [t("cause"), p.cause ? causeName(p.cause) : null],
      [t("tickets"), p.tickets && p.tickets.length ? p.tickets.join(", ") : null],
      [t("photos"), p.photo_count || null],
      [t("pings"), p.pings ? pingCounts(p.pings) : null],
    ]);
  }

  /* An incident's photos, asked for when the dispatcher opens them: thumbnails linking to
     the photos (served to signed-in staff only), built from their numeric ids. */
  function photosSection(p) {
    var section = el("section", "photos");
    var button = el("button", "secondary show-photos", t("photos_show") + " (" + p.photo_count + ")");
    button.type = "button";
    var list = el("ul", "photo-list");
    button.addEventListener("click", function () {
      button.disabled = true;
      M.fetchJson("/api/v1/incidents/" + encodeURIComponent(p.id) + "/photos")
        .then(function (photos) {
          photos.forEach(function (photo, i) {
            var id = encodeURIComponent(String(Number(photo.id)));
            var link = el("a");
            link.href = "/api/v1/photos/" + id;
            link.target = "_blank";
            link.rel = "noopener";
            var image = el("img");
            image.src = "/api/v1/photos/" + id + "/thumbnail";
            image.alt = t("photo_alt").replace("{n}", String(i + 1));
            image.loading = "lazy";
            link.appendChild(image);
            var item = el("li");
            item.appendChild(link);
            list.appendChild(item);
          });
          button.hidden = true;
        })
        .catch(function () {
          button.disabled = false;
          list.appendChild(el("li", "problem", t("photos_failed")));
        });
    });
    section.appendChild(button);
    section.appendChild(list);
    return section;
  }

  function crewName(id) {
    for (var i = 0; i < crews.length; i++) {
      if (crews[i].properties.id === id) return crews[i].properties.name;
    }
    return t("crew") + " #" + id;
  }

  function popup(title, facts) {
    var box = el("div", "popup");
    box.appendChild(el("h2", null, title));
    box.appendChild(facts);
    return box;
  }

  function refresh(key) {
    M.when(key, function (layer) { layer.update(); });
  }

  /* --- what the incident list (dispatch-list.js) shares with the map ----------------------- */

  /* The popup is opened again once the map has moved: a move (or a cluster's zoom) that
     ends after it would close it. The layer is looked up again then: a poll during the move
     may have drawn the incident anew. */
  function focusIncident(id) {
    var layer = layersById[id];
    if (!layer) return;
    M.when("map", function (map) {
      map.once("moveend", function () { (layersById[id] || layer).openPopup(); });
      if (layer.getLatLng) map.setView(layer.getLatLng(), Math.max(map.getZoom(), 16));
      else if (layer.getBounds) map.fitBounds(layer.getBounds());
      layer.openPopup();
    });
  }

  /* The crews are read before the incidents' listeners run, so a crew's name is known to
     the list in the same poll. */
  listen("crews", function (data) { crews = data.features || []; });

  M.dispatch = {
    listen: listen,
    crews: function () { return crews; },
    crewName: crewName,
    causeName: causeName,
    deviceName: deviceName,
    title: incidentTitle,
    facts: incidentFacts,
    pingCounts: pingCounts,
    photosSection: photosSection,
    plansSection: plansSection,
    plannable: plannable,
    dropPlans: dropPlans,
    focus: focusIncident,
    refresh: refresh,
    words: words,
  };

  listen("network", function (data) {
    if (fitted) return;
    fitted = true;
    M.when("map", function (map) { M.fit(map, data.bbox); });
  });
  listen("reports", function (data) {
    M.when("heat", function (heat) {
      heat.setLatLngs(
        (data.features || []).map(function (f) {
          return [f.geometry.coordinates[1], f.geometry.coordinates[0], 1];
        })
      );
    });
  });

  /* --- the network as it stands, and its legend ------------------------------------------ */

  /* Line sections take the colour of the feeder feeding them now; grey and dashed
     is reserved for those without supply. */
  var FEEDER_COLOURS = ["#2563eb", "#16a34a", "#c026d3", "#ea580c", "#0891b2", "#ca8a04", "#4f46e5", "#be123c"];
  var DEAD_COLOUR = "#9ca3af";
  var ABNORMAL = {
    tripped: { colour: "#b91c1c", fill: "#fecaca", label: "legend_tripped" },
    open: { colour: "#b91c1c", fill: "#ffffff", label: "legend_open" },
    closed: { colour: "#7c3aed", fill: "#7c3aed", label: "legend_closed" },
  };

  function feederColour(index) {
    return FEEDER_COLOURS[(index || 0) % FEEDER_COLOURS.length];
  }

  function abnormalLook(p) {
    return p.tripped ? ABNORMAL.tripped : p.is_open ? ABNORMAL.open : ABNORMAL.closed;
  }

  function networkTitle(p) {
    if (p.kind === "feeder") return t("feeder") + " " + p.name;
    if (p.kind === "deenergized") return t("legend_deenergized");
    if (p.kind === "abnormal") return deviceName({ kind: p.device_kind, asset_ref: p.name });
    return t("substation") + " " + p.name;
  }

  function legendRow(list, className, colour, fill, label) {
    var row = el("li", className);
    var swatch = el("span", "swatch");
    swatch.style.background = fill;
    swatch.style.borderColor = colour;
    row.appendChild(swatch);
    row.appendChild(el("span", null, label));
    list.appendChild(row);
  }

  function renderLegend(data) {
    var list = document.getElementById("network-legend");
    list.textContent = "";
    (data.features || []).forEach(function (f) {
      var p = f.properties;
      if (p.kind === "feeder") {
        var c = feederColour(p.index);
        legendRow(list, "legend-feeder", c, c, t("feeder") + " " + p.name);
      }
    });
    legendRow(list, "legend-deenergized", DEAD_COLOUR, "#ffffff", t("legend_deenergized"));
    ["open", "closed", "tripped"].forEach(function (key) {
      var look = ABNORMAL[key];
      legendRow(list, "legend-abnormal legend-" + key, look.colour, look.fill, t(look.label));
    });
  }

  listen("network", renderLegend);

  /* --- restoration plans ------------------------------------------------------------------ */

  /* An outage's ranked plans, read on demand (one incident at a time, however many there
     are), from GET /api/v1/map/incidents/{id}/restoration-plans.geojson: the plans as the
     API answers them, and what each does on the map. Hovering a plan draws it, "show on
     map" keeps it drawn; "order this plan" drafts its order with the network version the
     plans were read on. Each incident's section is kept across the panel's refreshes. */

  var PLAN_OPEN = { colour: "#b91c1c", fill: "#ffffff" };
  var PLAN_CLOSE = { colour: "#15803d", fill: "#15803d" };
  var PLAN_DEAD_COLOUR = "#111827";
  var numbers = new Intl.NumberFormat(M.config.lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 });
  var planSections = {};
  var planDrawn = null;
  var planSelected = null;

  function words(key, values) {
    return t(key).replace(/\{(\w+)\}/g, function (all, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : all;
    });
  }

  function minutes(seconds) {
    return words("plan_minutes", { n: numbers.format(seconds / 60) });
  }

  function planStyle(feature) {
    var p = feature.properties;
    if (p.kind === "plan_step") return {}; /* its marker's own (planStep) */
    if (p.kind === "plan_dead") {
      return { className: "plan-dead", color: PLAN_DEAD_COLOUR, weight: 7, opacity: 0.9, dashArray: "2 8" };
    }
    return { className: "plan-restored", color: feederColour(p.index), weight: 9, opacity: 0.7 };
  }

  function planStep(feature, latlng) {
    var p = feature.properties;
    var look = p.action === "open" ? PLAN_OPEN : PLAN_CLOSE;
    var marker = L.circleMarker(latlng, {
      pane: "plans",
      className: "plan-step plan-" + p.action,
      radius: 10,
      color: look.colour,
      weight: 4,
      fillColor: look.fill,
      fillOpacity: 1,
    });
    marker.bindTooltip(el("span", null, p.position + ". " + t("plan_step_" + p.action) + " " + p.asset_ref), {
      permanent: true,
      direction: "top",
      className: "plan-step-label",
    });
    return marker;
  }

  /* Draw one plan (or nothing): `shown` is {section, plan, features}. */
  function drawPlan(shown) {
    M.when("map", function (map) {
      if (planDrawn) map.removeLayer(planDrawn);
      planDrawn = null;
      Array.prototype.forEach.call(document.querySelectorAll("li.plan.drawn"), function (item) {
        item.classList.remove("drawn");
      });
      if (!shown) return;
      if (!map.getPane("plans")) map.createPane("plans").style.zIndex = 450;
      var rank = shown.plan.rank;
      planDrawn = L.geoJSON(
        { type: "FeatureCollection", features: shown.features.filter(function (f) { return f.properties.rank === rank; }) },
        { pane: "plans", style: planStyle, pointToLayer: planStep, interactive: false }
      ).addTo(map);
      shown.item.classList.add("drawn");
    });
  }

  function sectionNote(section, text, node) {
    var note = section.querySelector(".plans-outcome");
    note.textContent = text || "";
    if (node) note.appendChild(node);
  }

  function answerOf(response) {
    return response.json().then(
      function (data) { return { ok: response.ok, status: response.status, data: data }; },
      function () { return { ok: false, status: response.status, data: {} }; }
    );
  }

  function reason(answer) {
    return typeof answer.data.detail === "string" ? answer.data.detail : String(answer.status);
  }

  function orderPlan(incidentId, section, found, plan, button) {
    sectionNote(section, "");
    button.disabled = true;
    fetch("/api/v1/incidents/" + encodeURIComponent(incidentId) + "/restoration-plans/" + plan.rank + "/order", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ network_version: found.plans.network_version }),
    })
      .then(answerOf)
      .then(function (answer) {
        if (answer.ok) {
          var id = answer.data.id;
          var link = el("a", "drafted", words("plan_ordered", { id: id }));
          link.href = "/switching?" + new URLSearchParams({ lang: M.config.lang, drafted: id }) + "#order-" + id;
          sectionNote(section, "", link);
        } else if (answer.status === 409) {
          loadPlans(incidentId, section, words("plan_stale", { reason: reason(answer) }));
        } else {
          sectionNote(section, words("plan_refused", { reason: reason(answer) }));
        }
      })
      .catch(function (error) {
        sectionNote(section, words("plan_refused", { reason: error.message }));
      })
      .finally(function () {
        button.disabled = false;
      });
  }

  function planStepItem(step) {
    var how = t(step.remote ? "plan_remote" : "plan_crew");
    var item = el("li", "plan-step-row " + step.action + (step.remote ? " remote" : " manual"));
    item.appendChild(el("span", "step-device", t("plan_step_" + step.action) + " " + step.asset_ref));
    item.appendChild(
      el(
        "span",
        "step-facts",
        " · " + how + " · +" + minutes(step.at_seconds) + " · " + words("plan_step_back", { n: step.customers_restored })
      )
    );
    return item;
  }

  function planItem(incidentId, section, found, plan) {
    var item = el("li", "plan");
    item.dataset.rank = String(plan.rank);
    var shown = { item: item, plan: plan, features: found.features || [] };
    item.appendChild(el("h4", null, words("plan_title", { rank: plan.rank })));
    var loading = plan.peak_loading ? numbers.format(plan.peak_loading * 100) + " %" : null;
    item.appendChild(
      M.facts([
        [t("plan_restored"), plan.customers_restored],
        [t("plan_critical"), plan.critical_restored || null],
        [t("plan_left_out"), plan.customers_left_out],
        [t("plan_saved"), numbers.format(Math.round(plan.customer_minutes_saved))],
        [t("plan_duration"), minutes(plan.duration_seconds)],
        [t("plan_most_loaded"), loading && plan.most_loaded ? plan.most_loaded + " · " + loading : loading],
      ])
    );
    var steps = el("ol", "plan-steps");
    plan.steps.forEach(function (step) { steps.appendChild(planStepItem(step)); });
    item.appendChild(steps);
    var bar = el("div", "actions");
    var show = el("button", "secondary show-plan", t("plan_show"));
    show.type = "button";
    show.addEventListener("click", function () {
      planSelected = shown;
      drawPlan(shown);
      M.when("map", function (map) {
        if (planDrawn && planDrawn.getBounds().isValid()) map.fitBounds(planDrawn.getBounds(), { padding: [24, 24] });
      });
    });
    bar.appendChild(show);
    if (canDraft) {
      var order = el("button", "primary order-plan", t("plan_order"));
      order.type = "button";
      order.addEventListener("click", function () { orderPlan(incidentId, section, found, plan, order); });
      bar.appendChild(order);
    }
    item.appendChild(bar);
    item.addEventListener("mouseenter", function () { drawPlan(shown); });
    item.addEventListener("focusin", function () { drawPlan(shown); });
    item.addEventListener("mouseleave", function () { drawPlan(planSelected); });
    return item;
  }

  function renderPlans(incidentId, section, found) {
    var list = section.querySelector(".plan-list");
    list.textContent = "";
    var plans = found.plans.plans;
    section.querySelector(".plans-summary").textContent = plans.length
      ? words("plans_out_now", { n: found.plans.customers_out })
      : t("plans_none");
    plans.forEach(function (plan) { list.appendChild(planItem(incidentId, section, found, plan)); });
  }

  function forget(section) {
    if (planSelected && section.contains(planSelected.item)) {
      planSelected = null;
      drawPlan(null);
    }
  }

  /* Read the plans (again); `note` is kept under them (why they were read again). */
  function loadPlans(incidentId, section, note) {
    var button = section.querySelector(".show-plans");
    var summary = section.querySelector(".plans-summary");
    forget(section);
    section.querySelector(".plan-list").textContent = "";
    summary.textContent = t("plans_loading");
    sectionNote(section, note || "");
    button.disabled = true;
    fetch("/api/v1/map/incidents/" + encodeURIComponent(incidentId) + "/restoration-plans.geojson", {
      credentials: "same-origin",
      cache: "no-cache",
      headers: { Accept: "application/geo+json, application/json" },
    })
      .then(answerOf)
      .then(function (answer) {
        if (!answer.ok) throw new Error(reason(answer));
        renderPlans(incidentId, section, answer.data);
      })
      .catch(function (error) {
        summary.textContent = words("plans_failed", { reason: error.message });
      })
      .finally(function () {
        button.disabled = false;
        button.textContent = t("plans_reload");
      });
  }

  function plansSection(p) {
    var section = planSections[p.id];
    if (section) return section;
    section = el("section", "plans");
    section.id = "plans-" + p.id;
    section.appendChild(el("h3", null, t("plans_title")));
    var button = el("button", "secondary show-plans", t("plans_show"));
    button.type = "button";
    button.addEventListener("click", function () { loadPlans(p.id, section); });
    section.appendChild(button);
    var summary = el("p", "plans-summary");
    summary.setAttribute("role", "status");
    section.appendChild(summary);
    var note = el("p", "outcome plans-outcome");
    note.setAttribute("role", "status");
    note.setAttribute("aria-live", "polite");
    section.appendChild(note);
    section.appendChild(el("ol", "plan-list"));
    planSections[p.id] = section;
    return section;
  }

  function plannable(p) {
    return p.kind === "outage" && Boolean(p.device);
  }

  function dropPlans(incidentId) {
    var section = planSections[incidentId];
    if (!section) return;
    forget(section);
    delete planSections[incidentId];
  }

  /* --- devices out of their normal state ------------------------------------------------ */

  var abnormalShown = null;

  function focusDevice(assetRef) {
    var layer = deviceLayers[assetRef];
    if (!layer) return;
    M.when("map", function (map) {
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), 17));
      layer.openPopup();
    });
  }

  function drafted(order) {
    var outcome = document.getElementById("abnormal-outcome");
    var link = el("a", "drafted", t("abnormal_drafted").replace("{id}", order.id));
    link.href = "/switching?" + new URLSearchParams({ lang: M.config.lang, drafted: order.id }) + "#order-" + order.id;
    outcome.textContent = "";
    outcome.appendChild(link);
  }

  function returnToNormal(assetRefs, button) {
    var outcome = document.getElementById("abnormal-outcome");
    outcome.textContent = "";
    button.disabled = true;
    fetch("/api/v1/switching/orders/return-to-normal", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(assetRefs ? { asset_refs: assetRefs } : {}),
    })
      .then(function (answer) {
        return answer.json().then(function (data) {
          if (!answer.ok) throw new Error(typeof data.detail === "string" ? data.detail : answer.status);
          drafted(data);
        });
      })
      .catch(function (error) {
        outcome.textContent = t("abnormal_refused").replace("{reason}", error.message);
      })
      .finally(function () {
        button.disabled = false;
      });
  }

  function abnormalState(d) {
    var state = t(d.is_open ? "abnormal_now_open" : "abnormal_now_closed");
    return d.tripped ? state + " · " + t("abnormal_tripped") : state;
  }

  function abnormalBy(d) {
    var source = t("source_" + (d.source || "import"));
    return d.actor ? d.actor + " (" + source + ")" : source;
  }

  function abnormalItem(d) {
    var item = el("li", "abnormal-device " + (d.tripped ? "tripped" : d.is_open ? "open" : "closed"));
    item.dataset.assetRef = d.asset_ref;
    var locate = el("button", "locate", deviceName(d));
    locate.type = "button";
    locate.addEventListener("click", function () { focusDevice(d.asset_ref); });
    var head = el("h3");
    head.appendChild(locate);
    item.appendChild(head);
    item.appendChild(
      M.facts([
        [t("device_state"), abnormalState(d)],
        [t("state_since"), d.since ? M.time(d.since) : null],
        [t("state_by"), abnormalBy(d)],
        [t("state_reason"), d.reason],
      ])
    );
    if (canDraft) {
      var back = el("button", "secondary return-one", t("abnormal_return"));
      back.type = "button";
      back.addEventListener("click", function () { returnToNormal([d.asset_ref], back); });
      item.appendChild(back);
    }
    return item;
  }

  function renderAbnormal(devices) {
    var signature = JSON.stringify(devices);
    if (signature === abnormalShown) return;
    abnormalShown = signature;
    var list = document.getElementById("abnormal-list");
    list.textContent = "";
    devices.forEach(function (d) { list.appendChild(abnormalItem(d)); });
    document.getElementById("abnormal-count").textContent = "(" + devices.length + ")";
    document.getElementById("abnormal-empty").hidden = devices.length > 0;
    var all = document.getElementById("return-all");
    if (all) all.hidden = !devices.some(function (d) { return !d.tripped; });
  }

  var returnAll = document.getElementById("return-all");
  if (returnAll) {
    returnAll.addEventListener("click", function () { returnToNormal(null, returnAll); });
  }

  listen("network", function () {
    M.fetchJson("/api/v1/grid/abnormal").then(renderAbnormal, function () { return null; });
  });

  /* --- the layers, as folium's script calls them ------------------------------------------ */

  window.OutageDispatch = {
    source: function (key, url) {
      return M.source(url, function (data) {
        (listeners[key] || []).forEach(function (callback) { callback(data); });
      });
    },

    featureId: function (feature) {
      return feature.id !== undefined && feature.id !== null ? feature.id : feature.properties.id;
    },

    /* A marker drawn anew when its symbol changes (a state, a size, a heading). */
    updateFeature: S.update,

    incidentStyle: function (feature) {
      var c = S.stateColour(feature.properties.status);
      return { color: c, fillColor: c, weight: 6, opacity: 0.9, fillOpacity: 0.85 };
    },
    incidentMarker: S.incidentMarker,
    incidentFeature: function (feature, layer) {
      layer.options.className = "incident-marker";
      if (!layer.getLatLng) S.attachIncidentSymbol(feature, layer);
      layersById[feature.properties.id] = layer;
      layer.bindPopup(function (l) {
        return popup(incidentTitle(l.feature.properties), incidentFacts(l.feature.properties));
      }, POPUP);
      layer.bindTooltip(function (l) { return el("span", null, incidentTitle(l.feature.properties)); });
    },

    areaStyle: S.areaStyle,
    areaFeature: function (feature, layer) {
      layer.options.className = "affected-area";
      layer.bindTooltip(function (l) {
        var p = l.feature.properties;
        return el("span", null, t("incident") + " #" + p.id + " · " + p.customers_affected + " " + t("customers"));
      });
    },

    reportMarker: S.reportMarker,
    reportFeature: function (feature, layer) {
      layer.options.className = "report-marker";
      layer.bindPopup(function (l) {
        var p = l.feature.properties;
        var facts = M.facts([
          [t("ticket"), p.ticket],
          [t("received"), M.time(p.received_at)],
          [t("channel"), p.channel ? t("channel_" + p.channel) : null],
          [t("hazard"), p.hazard ? t("hazard_" + p.hazard) : null],
          [t("incident"), p.incident_id ? "#" + p.incident_id : null],
          [t("description"), p.description],
        ]);
        return popup(t("report") + " " + p.ticket, facts);
      }, POPUP);
    },

    crewMarker: S.crewMarker,
    crewFeature: function (feature, layer) {
      layer.bindTooltip(function (l) { return el("span", null, l.feature.properties.name); });
      layer.bindPopup(function (l) {
        var p = l.feature.properties;
        return popup(
          t("crew") + " " + p.name,
          M.facts([
            [t("crew_status"), t("crew_" + p.status)],
            [t("position_at"), M.time(p.position_at)],
          ])
        );
      }, POPUP);
    },

    networkStyle: function (feature) {
      var p = feature.properties;
      if (p.kind === "deenergized") return { color: DEAD_COLOUR, weight: 3, opacity: 0.9, dashArray: "6 6" };
      return { color: feederColour(p.index), weight: 3, opacity: 0.8 };
    },
    substationMarker: function (feature, latlng) {
      var p = feature.properties;
      if (p.kind === "abnormal") {
        var look = abnormalLook(p);
        return L.circleMarker(latlng, { radius: 7, color: look.colour, weight: 3, fillColor: look.fill, fillOpacity: 1 });
      }
      return L.circleMarker(latlng, { radius: 7, color: "#0f172a", weight: 3, fillColor: "#ffffff", fillOpacity: 1 });
    },
    networkFeature: function (feature, layer) {
      var kind = feature.properties.kind;
      layer.options.className = "network-" + kind;
      layer.bindTooltip(function (l) { return el("span", null, networkTitle(l.feature.properties)); });
      if (kind === "abnormal") {
        deviceLayers[feature.properties.name] = layer;
        layer.bindPopup(function (l) {
          var p = l.feature.properties;
          return popup(
            networkTitle(p),
            M.facts([
              [t("device_state"), t(abnormalLook(p).label)],
              [t("state_since"), M.time(p.since)],
              [t("state_by"), p.actor],
              [t("state_reason"), p.reason],
            ])
          );
        }, POPUP);
      }
    },
  };
})();
