// The supervisor dashboard: the live panel asks for its figures every 30 seconds and
// redraws them in place; the rest of the page reloads every five minutes. Only while the
// page is on screen. Every value goes in as text, never as markup.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLOUR = "#0b5cad";
  var RELOAD_MS = 5 * 60 * 1000;
  var panel = document.getElementById("live");
  var liveTimer = null;
  var reloadTimer = null;

  function number(value) {
    return typeof value === "number" ? value.toLocaleString("en-US") : String(value);
  }

  function valueAt(data, path) {
    var parts = path.split(".");
    if (parts[0] === "incidents") {
      var row = data.incidents.find(function (r) { return r.status === parts[1]; });
      return row ? row.incidents : 0;
    }
    return parts.reduce(function (found, key) { return found[key]; }, data);
  }

  function element(name, attributes, text) {
    var made = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { made.setAttribute(key, attributes[key]); });
    if (text !== undefined) { made.textContent = text; }
    return made;
  }

  function drawChart(svg, chart, seriesName) {
    Array.from(svg.children).forEach(function (child) {
      if (!child.classList.contains("unit")) { child.remove(); }
    });
    var right = chart.left + chart.plot_width;
    var baseline = chart.top + chart.plot_height;
    chart.ticks.forEach(function (tick) {
      svg.appendChild(element("line", { "class": "grid", x1: chart.left, x2: right, y1: tick.y, y2: tick.y, stroke: "#d0d0d0", "stroke-width": 1 }));
      svg.appendChild(element("text", { "class": "tick", x: chart.left - 6, y: tick.y + 4, "text-anchor": "end", "font-size": 15, fill: "#1a1a1a" }, tick.label));
    });
    svg.appendChild(element("line", { "class": "axis", x1: chart.left, x2: right, y1: baseline, y2: baseline, stroke: "#4a4a4a", "stroke-width": 1 }));
    chart.categories.forEach(function (category) {
      svg.appendChild(element("text", { "class": "category", x: category.x, y: baseline + 24, "text-anchor": "middle", "font-size": 16, fill: "#1a1a1a" }, category.label));
    });
    chart.lines.forEach(function (line) {
      svg.appendChild(element("polyline", { "class": "line series-0", points: line.points, fill: "none", stroke: COLOUR, "stroke-width": 2 }));
      line.dots.forEach(function (dot) {
        var circle = element("circle", { "class": "dot series-0", cx: dot[0], cy: dot[1], r: 4, fill: COLOUR });
        circle.appendChild(element("title", {}, seriesName + ", " + dot[2]));
        svg.appendChild(circle);
      });
    });
  }

  function show(data) {
    panel.querySelectorAll("[data-live]").forEach(function (field) {
      field.textContent = number(valueAt(data, field.getAttribute("data-live")));
    });
    var svg = document.querySelector("#customers-out-chart svg");
    drawChart(svg, data.chart, document.querySelector("#live-customers-out h3").textContent);
    panel.setAttribute("data-refreshed", String(Date.now()));
  }

  function refresh() {
    fetch(panel.getAttribute("data-source"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (data) { if (data) { show(data); } })
      .catch(function () { /* the next round tries again */ })
      .finally(scheduleRefresh);
  }

  function scheduleRefresh() {
    window.clearTimeout(liveTimer);
    if (panel && document.visibilityState === "visible") {
      liveTimer = window.setTimeout(refresh, Number(panel.getAttribute("data-refresh-s")) * 1000);
    }
  }

  function schedule() {
    window.clearTimeout(reloadTimer);
    if (document.visibilityState === "visible") {
      reloadTimer = window.setTimeout(function () { window.location.reload(); }, RELOAD_MS);
    }
    scheduleRefresh();
  }

  document.addEventListener("visibilitychange", schedule);
  schedule();
})();
