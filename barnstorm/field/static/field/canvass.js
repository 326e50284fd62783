// Canvassing maps (Leaflet from django-js-lib-leaflet): open turfs near a volunteer, one turf's
// doors in walking order, and the organizers' map of every turf where a door can be moved.
// Everything on these pages works without it (lists and forms); tiles are only the background,
// requested only when MAP_TILE_URL is set.
(function () {
  "use strict";

  function readJson(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  // A colour per turf number, neighbours far apart on the colour wheel (golden angle).
  function turfColor(number) {
    return "hsl(" + Math.round((number * 137.508) % 360) + ", 70%, 40%)";
  }

  function baseMap(element) {
    var map = L.map(element, { scrollWheelZoom: false });
    if (element.dataset.tiles) {
      L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: element.dataset.attribution }).addTo(map);
    }
    return map;
  }

  function pin(text, className, color) {
    var span = document.createElement("span");
    span.textContent = text;
    if (color) span.style.background = color;
    return L.divIcon({ className: "canvass-pin " + (className || ""), html: span.outerHTML, iconSize: [28, 28], iconAnchor: [14, 14] });
  }

  function fit(map, points) {
    if (points.length) map.fitBounds(L.latLngBounds(points).pad(0.1), { maxZoom: 18 });
  }

  function setUpLocation() {
    var form = document.getElementById("near-form");
    var button = document.getElementById("use-location");
    if (!form || !button || !("geolocation" in navigator)) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      button.disabled = true;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.lat.value = position.coords.latitude.toFixed(5);
          form.elements.lng.value = position.coords.longitude.toFixed(5);
          form.elements.zip.value = "";
          form.submit();
        },
        function () { button.disabled = false; },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 }
      );
    });
  }

  function setUpTurfsMap() {
    var element = document.getElementById("turfs-map");
    var turfs = readJson("turf-markers");
    if (!element || !turfs || typeof L === "undefined") return;
    var map = baseMap(element);
    var points = [];
    turfs.forEach(function (turf) {
      var point = [turf.lat, turf.lng];
      points.push(point);
      L.marker(point, { icon: pin(String(turf.number), "turf", turfColor(turf.number)), title: "Turf " + turf.number, alt: "Turf " + turf.number })
        .addTo(map)
        .on("click", function () { window.location.hash = turf.anchor; });
    });
    var center = readJson("near-center");
    if (center) {
      L.circleMarker([center.lat, center.lng], { radius: 7, color: "#1d4ed8", fillOpacity: 0.9 }).addTo(map);
      points.push([center.lat, center.lng]);
    }
    fit(map, points);
  }

  function setUpWalkMap() {
    var element = document.getElementById("walk-map");
    var doors = readJson("door-markers");
    if (!element || !doors || typeof L === "undefined") return;
    var map = baseMap(element);
    var points = doors.map(function (door) { return [door.lat, door.lng]; });
    L.polyline(points, { color: "#1d4ed8", weight: 3, opacity: 0.5 }).addTo(map);
    doors.forEach(function (door) {
      L.marker([door.lat, door.lng], { icon: pin(String(door.position), door.knocked ? "knocked" : "door"), title: door.position + ". " + door.line1, alt: door.position + ". " + door.line1 })
        .addTo(map)
        .on("click", function () {
          var item = document.getElementById("door-" + door.position);
          if (!item) return;
          var details = item.querySelector("details");
          if (details) details.open = true;
          item.scrollIntoView({ behavior: "smooth", block: "start" });
        });
    });
    fit(map, points);
  }

  function moveForm(element, door, choices) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = door.move;
    form.className = "move-form";
    var title = document.createElement("p");
    title.textContent = door.line1 + " (" + element.dataset.labelTurf + " " + door.turf + ", #" + door.position + ")";
    var csrf = document.createElement("input");
    csrf.type = "hidden";
    csrf.name = "csrfmiddlewaretoken";
    csrf.value = element.dataset.csrf;
    var label = document.createElement("label");
    label.textContent = element.dataset.labelMove + " ";
    var select = document.createElement("select");
    select.name = "to_turf";
    choices.forEach(function (choice) {
      if (choice.number === door.turf) return;
      var option = document.createElement("option");
      option.value = choice.id;
      option.textContent = element.dataset.labelTurf + " " + choice.number;
      select.appendChild(option);
    });
    label.appendChild(select);
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = element.dataset.labelSubmit;
    var show = document.createElement("a");
    show.href = element.dataset.turfUrl + "?turf=" + door.turf;
    show.textContent = element.dataset.labelShow.replace("%s", door.turf);
    form.append(title, csrf, label, " ", button, show);
    return form;
  }

  function setUpCutMap() {
    var element = document.getElementById("cut-map");
    var turfs = readJson("turf-markers");
    var doors = readJson("door-markers") || [];
    var choices = readJson("turf-choices") || [];
    if (!element || !turfs || typeof L === "undefined") return;
    var map = baseMap(element);
    var picked = Number(element.dataset.picked) || null;
    var withDoors = {};
    var points = [], pickedPoints = [];
    doors.forEach(function (door) {
      var point = [door.lat, door.lng];
      var title = door.position + ". " + door.line1;
      var marker = door.turf === picked
        // The picked turf's doors are numbered in walking order; its neighbours' are dots.
        ? L.marker(point, { icon: pin(String(door.position), "door", turfColor(door.turf)), title: title, alt: title, zIndexOffset: 1000 })
        : L.circleMarker(point, { radius: 7, color: "#fff", fillColor: turfColor(door.turf), fillOpacity: 0.9, weight: 1.5 });
      marker.addTo(map).bindPopup(function () { return moveForm(element, door, choices); });
      withDoors[door.turf] = true;
      points.push(point);
      if (door.turf === picked) pickedPoints.push(point);
    });
    turfs.forEach(function (turf) {
      if (withDoors[turf.number]) return;  // its doors say where it is
      var point = [turf.lat, turf.lng];
      var title = element.dataset.labelTurf + " " + turf.number + " · " + turf.doors + " · " + turf.status;
      points.push(point);
      L.marker(point, { icon: pin(String(turf.number), "turf", turfColor(turf.number)), title: title, alt: title })
        .addTo(map)
        .on("click", function () { window.location = element.dataset.turfUrl + "?turf=" + turf.number; });
    });
    fit(map, pickedPoints.length ? pickedPoints : points);
  }

  function paintSwatches() {
    document.querySelectorAll(".swatch[data-turf]").forEach(function (swatch) {
      swatch.style.background = turfColor(Number(swatch.dataset.turf));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    paintSwatches();
    setUpLocation();
    setUpTurfsMap();
    setUpWalkMap();
    setUpCutMap();
  });
})();
