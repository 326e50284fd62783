// The organizer dashboard's map: one circle per ZIP code, its area proportional to the number of
// supporters there. Circles work without tiles (offline): tiles are requested only when
// data-tiles is set (MAP_TILE_URL).
(function () {
  "use strict";

  function setUp() {
    var element = document.getElementById("density-map");
    var source = document.getElementById("zip-density");
    if (!element || !source || typeof L === "undefined") return;
    var zips = JSON.parse(source.textContent);
    if (!zips.length) return;
    var map = L.map(element, { scrollWheelZoom: false, attributionControl: !!element.dataset.tiles });
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution }).addTo(map);
    }
    var most = zips.reduce(function (m, z) { return Math.max(m, z.people); }, 1);
    var points = [];
    zips.forEach(function (z) {
      var point = [z.lat, z.lng];
      points.push(point);
      L.circleMarker(point, {
        radius: 3 + 22 * Math.sqrt(z.people / most),
        color: "#c2410c",
        weight: 1,
        fillOpacity: 0.45
      }).bindTooltip(z.zip + " · " + z.place + ": " + z.people.toLocaleString()).addTo(map);
    });
    map.fitBounds(points, { padding: [20, 20], maxZoom: 10 });
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
