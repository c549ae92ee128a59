/* What the map pages share: the page's configuration, the registry through which the
   map's script (built by folium) hands over its map and layers, and helpers that build
   popups and lists as DOM nodes from text. Nothing here parses data as markup: Leaflet
   treats a string popup or tooltip as HTML, so every one of ours is an element. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("map-config").textContent);
  var exposed = {};
  var waiting = {};

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function fetchJson(url) {
    return fetch(url, {
      credentials: "same-origin",
      cache: "no-cache",
      headers: { Accept: "application/geo+json, application/json" },
    }).then(function (answer) {
      if (!answer.ok) throw new Error(answer.status + " " + url);
      return answer.json();
    });
  }

  window.OutageMaps = {
    config: config,

    t: function (key) {
      return Object.prototype.hasOwnProperty.call(config.strings, key) ? config.strings[key] : key;
    },

    /* Called by the map's script for the map and each layer; `when` waits for one. */
    expose: function (key, layer) {
      exposed[key] = layer;
      (waiting[key] || []).forEach(function (callback) { callback(layer); });
      delete waiting[key];
    },
    when: function (key, callback) {
      if (exposed[key]) callback(exposed[key]);
      else (waiting[key] = waiting[key] || []).push(callback);
    },

    el: el,

    /* A definition list of [label, value] rows; rows without a value are left out. */
    facts: function (rows) {
      var list = el("dl", "facts");
      rows.forEach(function (row) {
        if (row[1] === undefined || row[1] === null || row[1] === "") return;
        list.appendChild(el("dt", null, row[0]));
        list.appendChild(el("dd", null, row[1]));
      });
      return list;
    },

    /* A moment as every page writes one (dates.js). */
    time: function (iso) {
      return window.OutageDates.dateTime(iso);
    },

    /* An ETR with the range it likely falls in, as every page writes one (dates.js). */
    etr: function (p) {
      return window.OutageDates.etr(p.etr, p.etr_earliest, p.etr_latest);
    },

    fetchJson: fetchJson,

    /* A Realtime layer's source: fetch the URL, give the data to `onData`, then to the
       layer; a failure goes to `onError` (the layer keeps polling). */
    source: function (url, onData, onError) {
      return function (success, error) {
        fetchJson(url)
          .then(function (data) {
            if (onData) onData(data);
            success(data);
          })
          .catch(function (problem) {
            if (onError) onError(problem);
            error(problem);
          });
      };
    },

    /* Fit the map to a GeoJSON bbox [west, south, east, north]. */
    fit: function (map, bbox) {
      if (bbox && bbox.length === 4) {
        map.fitBounds([[bbox[1], bbox[0]], [bbox[3], bbox[2]]], { padding: [16, 16] });
      }
    },
  };
})();
