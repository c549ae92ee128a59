/* The dispatcher map's symbols and their legend: an incident's shape tells its state and
   its size how many customers are out; a hazard is a warning triangle whatever its state;
   a crew is a vehicle in its status's colour, with an arrow the way it is heading while
   it moves; a customer report is a small dot; an incident whose meters are being asked
   has a dashed ring. The legend on the map shows each of them,
   drawn by the same functions.

   Symbols are SVG built as DOM nodes from the constants here and numbers; no text from
   the data goes into them. Each marker is named (its title and aria-label) in the page's
   language. Loaded after map-common.js and before dispatch.js, whose `OutageDispatch`
   calls these for every feature. */
(function () {
  "use strict";

  var M = window.OutageMaps;
  var t = M.t;
  var el = M.el;
  var SVG = "http://www.w3.org/2000/svg";

  var STATES = ["predicted", "confirmed", "dispatched", "en_route", "on_site", "partially_restored"];
  var STATE_COLOURS = {
    predicted: "#b45309",
    confirmed: "#dc2626",
    dispatched: "#7c3aed",
    en_route: "#2563eb",
    on_site: "#0e7490",
    partially_restored: "#15803d",
  };
  var STATE_SHAPES = {
    predicted: "diamond",
    confirmed: "circle",
    dispatched: "square",
    en_route: "square",
    on_site: "square_dot",
    partially_restored: "half",
  };
  var OTHER_COLOUR = "#4b5563";
  var OUTLINE = "#111827";
  var HAZARD = { fill: "#fbbf24", stroke: "#b91c1c", mark: "#111827" };
  var PINGING = { stroke: "#111827", width: 1.5, dashes: "3 2.5", radius: 15.25 };

  var CREW_STATUSES = ["available", "en_route", "on_site", "off_shift"];
  var CREW_COLOURS = { available: "#15803d", en_route: "#2563eb", on_site: "#0e7490", off_shift: "#6b7280" };
  var CREW_SIZE = 30;

  var REPORT = { fill: "#475569", hazard: "#dc2626", stroke: "#ffffff", radius: 4 };

  /* Customers out at which an incident's symbol grows a step, and its size (px) then. */
  var SIZE_STEPS = [
    { from: 0, size: 20 },
    { from: 50, size: 26 },
    { from: 200, size: 32 },
    { from: 1000, size: 40 },
  ];
  var HAZARD_MIN_SIZE = 28;

  /* Stacking: hazards on top, then crews, then incidents, a smaller one above a larger. */
  var HAZARD_Z = 1000;
  var CREW_Z = 500;

  function stateColour(status) {
    return STATE_COLOURS[status] || OTHER_COLOUR;
  }

  function node(tag, attributes, parent) {
    var made = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (name) {
      made.setAttribute(name, String(attributes[name]));
    });
    if (parent) parent.appendChild(made);
    return made;
  }

  /* An SVG of `size` px drawn on a 32 x 32 grid; the name is on the marker, not here. */
  function canvas(size, className) {
    var svg = node("svg", { width: size, height: size, viewBox: "0 0 32 32", class: "symbol " + className });
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    return svg;
  }

  /* --- incidents ---------------------------------------------------------------------------- */

  function isHazard(p) {
    return Boolean(p.hazard) || p.kind === "hazard";
  }

  function sizeFor(customers) {
    var size = SIZE_STEPS[0].size;
    SIZE_STEPS.forEach(function (step) {
      if ((customers || 0) >= step.from) size = step.size;
    });
    return size;
  }

  function drawState(svg, status) {
    var c = stateColour(status);
    var shape = STATE_SHAPES[status] || "circle";
    var line = { stroke: OUTLINE, "stroke-width": 1.5 };
    if (shape === "diamond") {
      node("path", { d: "M16 2 L30 16 L16 30 L2 16 Z", fill: "#ffffff", stroke: c, "stroke-width": 4 }, svg);
    } else if (shape === "square" || shape === "square_dot") {
      node("rect", Object.assign({ x: 4, y: 4, width: 24, height: 24, rx: 2, fill: c }, line), svg);
      if (shape === "square_dot") node("circle", { cx: 16, cy: 16, r: 5, fill: "#ffffff" }, svg);
    } else if (shape === "half") {
      node("circle", { cx: 16, cy: 16, r: 13, fill: "#ffffff", stroke: c, "stroke-width": 3 }, svg);
      node("path", { d: "M16 3 A13 13 0 0 0 16 29 Z", fill: c }, svg);
    } else {
      node("circle", Object.assign({ cx: 16, cy: 16, r: 13, fill: c }, line), svg);
    }
    return svg;
  }

  function drawHazard(svg) {
    node("path", { d: "M16 2 L31 29 L1 29 Z", fill: HAZARD.fill, stroke: HAZARD.stroke, "stroke-width": 2.5, "stroke-linejoin": "round" }, svg);
    node("rect", { x: 14.5, y: 11, width: 3, height: 10, rx: 1, fill: HAZARD.mark }, svg);
    node("circle", { cx: 16, cy: 25, r: 1.8, fill: HAZARD.mark }, svg);
    return svg;
  }

  /* Some of the meters asked about it have not answered yet. */
  function pinging(p) {
    return Boolean(p.pings && p.pings.pending > 0);
  }

  function incidentLook(p) {
    var hazard = isHazard(p);
    var size = sizeFor(p.customers_affected);
    return { hazard: hazard, status: p.status, size: hazard ? Math.max(size, HAZARD_MIN_SIZE) : size, pinging: pinging(p) };
  }

  function incidentLabel(p) {
    var what = isHazard(p) ? t("symbol_hazard") : t("incident");
    var label = what + " #" + p.id + " · " + t("status_" + p.status) + " · " + t("customers_out") + ": " + p.customers_affected;
    return pinging(p) ? label + " · " + t("pings_waiting") : label;
  }

  /* A thin dashed ring round the symbol, inside its box. */
  function drawPinging(svg) {
    node("circle", { class: "pinging", cx: 16, cy: 16, r: PINGING.radius, fill: "none", stroke: PINGING.stroke, "stroke-width": PINGING.width, "stroke-dasharray": PINGING.dashes }, svg);
    return svg;
  }

  function incidentSvg(look) {
    var className = look.hazard ? "hazard" : "state-" + look.status;
    var svg = canvas(look.size, className);
    if (look.hazard) drawHazard(svg);
    else drawState(svg, look.status);
    return look.pinging ? drawPinging(svg) : svg;
  }

  function incidentKey(feature) {
    return JSON.stringify([incidentLook(feature.properties), incidentLabel(feature.properties)]);
  }

  /* --- crews --------------------------------------------------------------------------------- */

  function heading(p) {
    var degrees = Number(p.heading);
    return p.heading === null || p.heading === undefined || !isFinite(degrees) ? null : degrees;
  }

  function crewLook(p) {
    return { status: p.status, atDepot: Boolean(p.at_depot), heading: heading(p) };
  }

  function crewLabel(p) {
    return t("crew") + " " + p.name + " · " + t("crew_" + p.status);
  }

  /* A badge in the status's colour with a truck on it; dashed while it is at its depot (no
     position heard), an arrow on its rim the way it is heading. */
  function crewSvg(look, size) {
    var svg = canvas(size, "crew-" + look.status);
    var c = CREW_COLOURS[look.status] || CREW_COLOURS.off_shift;
    var rim = { cx: 16, cy: 16, r: 14, fill: c, stroke: OUTLINE, "stroke-width": 1.5 };
    if (look.atDepot) rim["stroke-dasharray"] = "4 2.5";
    node("circle", rim, svg);
    var truck = node("g", { class: "vehicle", fill: "#ffffff" }, svg);
    node("rect", { x: 5, y: 10, width: 13, height: 10, rx: 1.5 }, truck);
    node("path", { d: "M19 13 H23 L27 17.5 V20 H19 Z" }, truck);
    node("circle", { cx: 9.5, cy: 21.5, r: 2.6, stroke: c, "stroke-width": 1.2 }, truck);
    node("circle", { cx: 22, cy: 21.5, r: 2.6, stroke: c, "stroke-width": 1.2 }, truck);
    if (look.heading !== null) {
      var arrow = node("g", { class: "heading", transform: "rotate(" + look.heading.toFixed(1) + " 16 16)" }, svg);
      node("path", { d: "M16 -6 L21.5 1.5 L10.5 1.5 Z", fill: OUTLINE, stroke: "#ffffff", "stroke-width": 1.2 }, arrow);
    }
    return svg;
  }

  function crewKey(feature) {
    return JSON.stringify([crewLook(feature.properties), crewLabel(feature.properties)]);
  }

  /* --- markers -------------------------------------------------------------------------------- */

  /* A marker showing `svg`, named `label`, that knows how to tell when its feature would
     look (or be named) otherwise: `update` draws it again then. */
  function marker(latlng, svg, label, className, keyOf, feature, zIndexOffset) {
    var size = Number(svg.getAttribute("width"));
    var icon = L.divIcon({
      html: svg,
      className: "symbol-marker " + className,
      iconSize: [size, size],
      iconAnchor: [size / 2, size / 2],
      tooltipAnchor: [size / 2, 0],
      popupAnchor: [0, -size / 2],
    });
    var made = L.marker(latlng, { icon: icon, title: label, riseOnHover: true, zIndexOffset: zIndexOffset });
    made.on("add", function () {
      var element = made.getElement();
      if (element) element.setAttribute("aria-label", label);
    });
    made.symbolKeyOf = keyOf;
    made.symbolKey = keyOf(feature);
    return made;
  }

  function incidentMarker(feature, latlng) {
    var p = feature.properties;
    var look = incidentLook(p);
    var className = "incident-marker" + (look.hazard ? " hazard-marker" : "");
    return marker(latlng, incidentSvg(look), incidentLabel(p), className, incidentKey, feature, look.hazard ? HAZARD_Z : -look.size);
  }

  function middle(latlngs) {
    var flat = L.LineUtil.isFlat(latlngs) ? latlngs : [].concat.apply([], latlngs);
    return flat[Math.floor(flat.length / 2)];
  }

  window.OutageSymbols = {
    stateColour: stateColour,

    incidentMarker: incidentMarker,

    /* An incident drawn as a line (a line section at fault) gets its symbol on the line's
       middle too, shown and hidden with the line; a click on it opens the line's popup. */
    attachIncidentSymbol: function (feature, line) {
      var symbol = null;
      line.symbolKeyOf = incidentKey;
      line.symbolKey = incidentKey(feature);
      line.on("add", function () {
        symbol = incidentMarker(line.feature, middle(line.getLatLngs()));
        symbol.bindTooltip(function () { return el("span", null, incidentLabel(line.feature.properties)); });
        symbol.on("click", function () { line.openPopup(symbol.getLatLng()); });
        M.when("map", function (map) { if (symbol) map.addLayer(symbol); });
      });
      line.on("remove", function () {
        if (symbol) symbol.remove();
        symbol = null;
      });
    },

    crewMarker: function (feature, latlng) {
      var p = feature.properties;
      return marker(latlng, crewSvg(crewLook(p), CREW_SIZE), crewLabel(p), "crew-marker", crewKey, feature, CREW_Z);
    },

    reportMarker: function (feature, latlng) {
      return L.circleMarker(latlng, {
        radius: REPORT.radius,
        color: REPORT.stroke,
        weight: 1.5,
        fillColor: feature.properties.hazard ? REPORT.hazard : REPORT.fill,
        fillOpacity: 1,
      });
    },

    /* The affected area of an incident: light, thin, in its state's colour, so many can
       overlap and the map under them still reads. */
    areaStyle: function (feature) {
      var c = stateColour(feature.properties.status);
      return { color: c, weight: 1, opacity: 0.7, fillColor: c, fillOpacity: 0.07 };
    },

    /* Realtime's update of a feature: a marker whose look or name changed is drawn anew
       (null makes Realtime build it again), any other only moves. */
    update: function (feature, layer) {
      if (layer && layer.symbolKeyOf && layer.symbolKeyOf(feature) !== layer.symbolKey) return null;
      return L.Realtime.prototype.options.updateFeature(feature, layer);
    },
  };

  /* --- the legend ----------------------------------------------------------------------------- */

  function legendRow(list, className, symbol, label) {
    var row = el("li", className);
    row.appendChild(symbol);
    row.appendChild(el("span", null, label));
    list.appendChild(row);
  }

  function areaSwatch() {
    var svg = canvas(20, "area");
    node("rect", { x: 2, y: 6, width: 28, height: 20, rx: 3, fill: STATE_COLOURS.confirmed, "fill-opacity": 0.15, stroke: STATE_COLOURS.confirmed, "stroke-width": 1.5 }, svg);
    return svg;
  }

  function reportSwatch(fill) {
    var svg = canvas(20, "report");
    node("circle", { cx: 16, cy: 16, r: 7, fill: fill, stroke: REPORT.stroke, "stroke-width": 2 }, svg);
    return svg;
  }

  function group(body, key, rows) {
    body.appendChild(el("h3", null, t(key)));
    var list = el("ul", "legend symbol-legend");
    rows(list);
    body.appendChild(list);
  }

  function legendBody() {
    var body = el("div", "symbol-legend-body");
    group(body, "symbol_incidents", function (list) {
      STATES.forEach(function (status) {
        legendRow(list, "legend-state legend-" + status, incidentSvg({ hazard: false, status: status, size: 20 }), t("status_" + status));
      });
      legendRow(list, "legend-hazard", incidentSvg({ hazard: true, size: 20 }), t("symbol_hazard_any"));
      legendRow(list, "legend-pinging", incidentSvg({ hazard: false, status: "confirmed", size: 20, pinging: true }), t("symbol_pings_pending"));
    });
    body.appendChild(el("p", "symbol-note", t("symbol_size")));
    group(body, "symbol_crews", function (list) {
      CREW_STATUSES.forEach(function (status) {
        legendRow(list, "legend-crew legend-crew-" + status, crewSvg({ status: status, atDepot: false, heading: null }, 22), t("crew_" + status));
      });
      legendRow(list, "legend-crew-heading", crewSvg({ status: "en_route", atDepot: false, heading: 45 }, 22), t("symbol_heading"));
      legendRow(list, "legend-crew-depot", crewSvg({ status: "available", atDepot: true, heading: null }, 22), t("symbol_at_depot"));
    });
    group(body, "symbol_other", function (list) {
      legendRow(list, "legend-report", reportSwatch(REPORT.fill), t("symbol_report"));
      legendRow(list, "legend-report-hazard", reportSwatch(REPORT.hazard), t("symbol_report_hazard"));
      legendRow(list, "legend-area", areaSwatch(), t("symbol_area"));
    });
    return body;
  }

  /* A collapsible box on the map, bottom left: open on a wide screen, closed on a phone. */
  function legendControl() {
    var control = L.control({ position: "bottomleft" });
    control.onAdd = function () {
      var box = el("details", "leaflet-control symbol-legend-box");
      box.id = "symbol-legend";
      box.open = !window.matchMedia("(max-width: 40rem)").matches;
      box.appendChild(el("summary", null, t("symbol_legend_title")));
      box.appendChild(legendBody());
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      return box;
    };
    return control;
  }

  M.when("map", function (map) { legendControl().addTo(map); });
})();
