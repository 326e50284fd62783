// The event search page: "Use my location" and the Leaflet map of the results.
// Markers and the list work without tiles (offline, or a tile server that is down): tiles are
// only the background, and are requested only when MAP_TILE_URL is set.
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function setUpLocation() {
    var form = document.getElementById("event-search");
    var button = document.getElementById("use-location");
    if (!form || !button || !("geolocation" in navigator)) return;
    var zip = form.elements.zip, lat = form.elements.lat, lng = form.elements.lng;
    var problem = document.getElementById("locate-error");
    button.hidden = false;
    // A typed ZIP code is a new place: forget the coordinates of an earlier "my location".
    zip.addEventListener("input", function () { lat.value = ""; lng.value = ""; });
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          lat.value = position.coords.latitude.toFixed(5);
          lng.value = position.coords.longitude.toFixed(5);
          zip.value = "";
          form.submit();
        },
        function () {
          button.disabled = false;
          problem.textContent = problem.dataset.denied;
          problem.hidden = false;
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 }
      );
    });
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function setUpMap() {
    var element = document.getElementById("event-map");
    var markers = readJson("event-markers");
    if (!element || !markers || !markers.length || typeof L === "undefined") return;
    var map = L.map(element, { scrollWheelZoom: false });
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 18, attribution: element.dataset.attribution }).addTo(map);
    }
    var points = [];
    markers.forEach(function (event) {
      var point = [event.lat, event.lng];
      points.push(point);
      L.marker(point, { title: event.title, alt: event.title })
        .addTo(map)
        .bindPopup(
          '<a href="' + escapeHtml(event.url) + '"><strong>' + escapeHtml(event.title) + "</strong></a><br>" +
            escapeHtml(event.when)
        );
    });
    var center = readJson("search-center");
    if (center) {
      L.circleMarker([center.lat, center.lng], { radius: 6, color: "#1d4ed8", fillOpacity: 0.9 }).addTo(map);
      points.push([center.lat, center.lng]);
    }
    map.fitBounds(L.latLngBounds(points).pad(0.15), { maxZoom: 13 });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpLocation();
    setUpMap();
  });
})();
