/* The public outage map: colours the areas by customers out, writes their popups (as DOM
   nodes, in the page's language), and keeps the summary and "updated at" current.
   Loaded before the map's own script (built by folium), which calls `OutagePublic`. */
(function () {
  "use strict";

  var M = window.OutageMaps;
  var t = M.t;
  var el = M.el;
  var fitted = false;

  function shade(customers) {
    if (customers >= 500) return "#7f1d1d";
    if (customers >= 100) return "#b91c1c";
    if (customers >= 20) return "#ea580c";
    return "#f59e0b";
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, name) { return String(values[name]); });
  }

  function summarise(data) {
    var outages = (data.features || []).filter(function (f) { return f.properties.kind === "outage"; });
    var customers = outages.reduce(function (sum, f) { return sum + f.properties.customers_out; }, 0);
    document.getElementById("map-summary").textContent = outages.length
      ? format(t("public_summary"), { customers: customers.toLocaleString(M.config.lang), areas: outages.length })
      : t("public_none");
    var updated = document.getElementById("map-updated");
    updated.dateTime = data.updated_at || "";
    updated.textContent = M.time(data.updated_at);
    if (!fitted) {
      fitted = true;
      M.when("map", function (map) { M.fit(map, data.bbox); });
    }
  }

  function causes(p) {
    var named = (p.hazards || []).map(function (h) { return t("hazard_" + h); }).concat(p.causes || []);
    return named.length ? named.join("; ") : t("cause_unknown");
  }

  function outagePopup(p) {
    var etr = p.etr ? M.time(p.etr) + (p.etr_partial ? " (" + t("etr_partial") + ")" : "") : t("etr_unknown");
    return M.facts([
      [t("customers_out"), p.customers_out.toLocaleString(M.config.lang)],
      [t("since"), M.time(p.since)],
      [t("etr"), etr],
      [t("cause"), causes(p)],
    ]);
  }

  function plannedPopup(p) {
    return M.facts([
      [t("planned_customers"), p.customers.toLocaleString(M.config.lang)],
      [t("planned_window"), M.time(p.starts_at) + " – " + M.time(p.ends_at)],
    ]);
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
      }, { minWidth: 220, maxWidth: 300 });
    },
  };
})();
