/* The crew page's job maps: a small Leaflet map in every <div class="job-map">, centred on
   the job (data-lat, data-lon, data-zoom), with the configured tiles (data-tiles,
   data-attribution; none when empty). The label is shown as text, never as markup. */
(function () {
  "use strict";

  function draw(box) {
    var lat = Number(box.dataset.lat);
    var lon = Number(box.dataset.lon);
    if (!isFinite(lat) || !isFinite(lon) || box.dataset.drawn) return;
    box.dataset.drawn = "1";
    var map = L.map(box, { center: [lat, lon], zoom: Number(box.dataset.zoom) || 16, scrollWheelZoom: false });
    if (box.dataset.tiles) {
      L.tileLayer(box.dataset.tiles, { attribution: box.dataset.attribution || "", maxZoom: 19 }).addTo(map);
    }
    var marker = L.circleMarker([lat, lon], { radius: 9, color: "#7f1d1d", weight: 3, fillColor: "#dc2626", fillOpacity: 0.9 });
    if (box.dataset.label) {
      var label = document.createElement("span");
      label.textContent = box.dataset.label;
      marker.bindTooltip(label, { permanent: false });
    }
    marker.addTo(map);
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll(".job-map"), draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
