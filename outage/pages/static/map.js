/* The public outage map: colours the areas by customers out (the scale the legend tells),
   writes their popups and the list of affected areas (as DOM nodes, in the page's
   language), draws our own outline under them so the map reads without tiles, and keeps
   the summary and "updated at" current.
   Loaded before the map's own script (built by folium), which calls `OutagePublic`. */
(function () {
  "use strict";

  var M = window.OutageMaps;
  var t = M.t;
  var el = M.el;
  var fitted = false;
  var OUTLINE_URL = "/api/v1/map/outline.geojson";

  /* The colour of the highest band [lowest customers out, colour] reached. */
  function shade(customers) {
    var colour = M.config.shades[0][1];
    M.config.shades.forEach(function (band) {
      if (customers >= band[0]) colour = band[1];
    });
    return colour;
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  function count(n) {
    return n.toLocaleString(M.config.lang);
  }

  /* "21:30 (likely between 18:00 and 22:15)": the area's latest ETR and the range its
     outages' restorations likely fall in; or "being assessed". */
  function etrText(p) {
    if (!p.etr) return t("etr_unknown");
    var text = M.etr(p);
    return p.etr_partial ? text + " (" + t("etr_partial") + ")" : text;
  }

  function areaName(p, index) {
    return p.name || format(t("public_area_number"), { n: index + 1 });
  }

  function outagesOf(data) {
    return (data.features || [])
      .filter(function (f) { return f.properties.kind === "outage"; })
      .sort(function (a, b) {
        return b.properties.customers_out - a.properties.customers_out || (a.id < b.id ? -1 : 1);
      });
  }

  /* Open an area's popup, the map fitted to it. */
  function showArea(id) {
    M.when("areas", function (areas) {
      var layer = areas.getLayer(id);
      if (!layer) return;
      M.when("map", function (map) {
        map.fitBounds(layer.getBounds(), { maxZoom: 15 });
        layer.openPopup();
      });
    });
  }

  /* The list of affected areas, most customers out first: the map as a table. */
  function list(outages) {
    var rows = document.getElementById("area-rows");
    var table = document.getElementById("area-table");
    var empty = document.getElementById("areas-empty");
    rows.replaceChildren();
    outages.forEach(function (feature, index) {
      var p = feature.properties;
      var row = el("tr", "area-row");
      row.dataset.area = p.id;
      var name = el("th");
      name.scope = "row";
      var button = el("button", "locate", areaName(p, index));
      button.type = "button";
      button.addEventListener("click", function () { showArea(p.id); });
      name.appendChild(button);
      row.appendChild(name);
      row.appendChild(el("td", "number", count(p.customers_out)));
      row.appendChild(el("td", null, etrText(p)));
      rows.appendChild(row);
    });
    table.hidden = outages.length === 0;
    empty.hidden = outages.length > 0;
    empty.textContent = t("public_areas_none");
  }

  function summarise(data) {
    var outages = outagesOf(data);
    var customers = outages.reduce(function (sum, f) { return sum + f.properties.customers_out; }, 0);
    document.getElementById("map-summary").textContent = outages.length
      ? format(t("public_summary"), { customers: count(customers), areas: outages.length })
      : t("public_none");
    var updated = document.getElementById("map-updated");
    updated.dateTime = data.updated_at || "";
    updated.textContent = M.time(data.updated_at);
    list(outages);
    if (!fitted) {
      fitted = true;
      M.when("map", function (map) { M.fit(map, data.bbox); });
    }
  }

  function causes(p) {
    var named = (p.hazards || []).map(function (h) { return t("hazard_" + h); })
      .concat((p.causes || []).map(function (c) { return t("cause_" + c); }));
    return named.length ? named.join("; ") : t("cause_unknown");
  }

  function outagePopup(p) {
    return M.facts([
      [t("public_area"), p.name],
      [t("customers_out"), count(p.customers_out)],
      [t("since"), M.time(p.since)],
      [t("etr"), etrText(p)],
      [t("cause"), causes(p)],
    ]);
  }

  function plannedPopup(p) {
    return M.facts([
      [t("planned_customers"), count(p.customers)],
      [t("planned_window"), M.time(p.starts_at) + " – " + M.time(p.ends_at)],
    ]);
  }

  /* Our service area and lines, under the outages, in a light stroke. */
  function drawOutline(map) {
    map.createPane("outline").style.zIndex = 350;
    M.fetchJson(OUTLINE_URL).then(function (data) {
      L.geoJSON(data, {
        pane: "outline",
        interactive: false,
        style: function (feature) {
          return feature.properties.kind === "territory"
            ? { className: "outline-territory", color: "#475569", weight: 2, fillColor: "#e2e8f0", fillOpacity: 0.25 }
            : { className: "outline-lines", color: "#64748b", weight: 1.5, opacity: 0.7 };
        },
      }).addTo(map);
    }).catch(function () { return null; });  /* the outages still show without it */
  }

  M.when("map", drawOutline);

  /* --- the search: an address, an area, a ticket, or where the visitor is ------------- */

  var LOOKUP_URL = "/api/v1/map/lookup";
  var found = null;  /* the outline of what the last search found */

  function say(lines) {
    var box = document.getElementById("lookup-result");
    box.replaceChildren();
    lines.forEach(function (line) { if (line) box.appendChild(el("p", null, line)); });
  }

  function flyTo(bbox) {
    M.when("map", function (map) {
      var bounds = [[bbox[1], bbox[0]], [bbox[3], bbox[2]]];
      if (found) found.remove();
      found = L.rectangle(bounds, { className: "lookup-found", color: "#0b5cad", weight: 3, dashArray: "6 4", fill: false, interactive: false }).addTo(map);
      map.flyToBounds(bounds, { maxZoom: 15, duration: 0.5 });
    });
  }

  function told(body) {
    var name = body.name || (body.found === "position" ? t("lookup_here") : "");
    var lines = [];
    if (body.ticket) {
      lines.push(format(t("lookup_ticket"), { ticket: body.ticket.ticket, status: body.ticket.status_text }));
      lines.push(body.ticket.progress_text);
    }
    var outages = body.outages;
    if (outages.length) {
      var customers = outages.reduce(function (sum, area) { return sum + area.customers_out; }, 0);
      lines.push(format(t(outages.length === 1 ? "lookup_outage" : "lookup_outages"), {
        name: name || areaName(outages[0], 0),
        customers: count(customers),
        areas: outages.length,
        etr: etrText(outages[0]),
      }));
    } else if (body.bbox) {
      lines.push(format(t("lookup_clear"), { name: name }));
    }
    say(lines);
    if (body.bbox) flyTo(body.bbox);
  }

  function refused(status, byPosition) {
    var digits = document.getElementById("lookup-digits");
    if (status === 403) {
      var asked = !digits.hidden && document.getElementById("lookup-phone").value;
      digits.hidden = false;
      document.getElementById("lookup-phone").focus();
      say([t(asked ? "lookup_digits_wrong" : "lookup_digits_needed")]);
    } else if (status === 404 || status === 422) {
      say([t(byPosition ? "lookup_outside" : "lookup_not_found")]);
    } else {
      say([t(status === 429 ? "lookup_busy" : "lookup_failed")]);
    }
  }

  function lookup(params) {
    say([t("lookup_searching")]);
    params.lang = M.config.lang;
    var query = new URLSearchParams(params).toString();
    fetch(LOOKUP_URL + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        return answer.json().then(function (body) {
          if (answer.ok) told(body);
          else refused(answer.status, "lat" in params);
        });
      })
      .catch(function () { say([t("lookup_failed")]); });
  }

  function search(event) {
    event.preventDefault();
    var q = document.getElementById("lookup-q").value.trim();
    if (q.length < 2) {
      say([t("lookup_not_found")]);
      return;
    }
    var params = { q: q };
    var digits = document.getElementById("lookup-phone").value.trim();
    if (!document.getElementById("lookup-digits").hidden && digits) params.phone_last4 = digits;
    lookup(params);
  }

  function locateMe() {
    say([t("lookup_searching")]);
    navigator.geolocation.getCurrentPosition(
      function (where) {
        lookup({ lat: where.coords.latitude.toFixed(5), lon: where.coords.longitude.toFixed(5) });
      },
      function () { say([t("lookup_no_position")]); },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 }
    );
  }

  document.getElementById("lookup").addEventListener("submit", search);
  if ("geolocation" in navigator) {
    var locate = document.getElementById("locate-me");
    locate.hidden = false;
    locate.addEventListener("click", locateMe);
  }

  window.OutagePublic = {
    source: function (url) {
      return M.source(url, summarise, function () {
        document.getElementById("map-summary").textContent = t("public_failed");
      });
    },

    featureId: function (feature) {
      return feature.properties.id;
    },

    areaStyle: function (feature) {
      var p = feature.properties;
      if (p.kind === "planned") {
        return { color: "#1d4ed8", weight: 2, dashArray: "4 4", fillColor: "#60a5fa", fillOpacity: 0.25 };
      }
      var c = shade(p.customers_out);
      return { color: c, weight: 1, fillColor: c, fillOpacity: 0.5 };
    },

    areaFeature: function (feature, layer) {
      layer.bindPopup(function (l) {
        var p = l.feature.properties;
        var box = el("div", "popup");
        box.appendChild(el("h2", null, p.kind === "planned" ? t("planned") : t("layer_outages")));
        box.appendChild(p.kind === "planned" ? plannedPopup(p) : outagePopup(p));
        return box;
      }, { minWidth: 200, maxWidth: 280 });
    },

    showArea: showArea,
  };
})();
