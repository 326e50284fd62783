// Check-in at the door: scan tickets' QR codes with the phone's camera where the browser has
// the BarcodeDetector API (Chrome on Android, among others); everywhere else the ticket-code box
// and the name search do the job, and the page works without this script at all.
(function () {
  "use strict";

  var SAME_CODE_PAUSE_MS = 3000; // a code held in front of the camera is sent once, not 30 times
  var SCAN_EVERY_MS = 200;

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function submitTicket(form, input, code) {
    input.value = code;
    if (form.requestSubmit) form.requestSubmit(); // htmx hears the submit event
    else form.dispatchEvent(new Event("submit", {bubbles: true, cancelable: true}));
  }

  ready(function () {
    var form = document.getElementById("ticket-form");
    var input = document.getElementById("ticket");
    var result = document.getElementById("result");
    if (!form || !input) return;

    // After each answer: clear the box and keep it focused, so a hand scanner that types the
    // code and Enter can go on, and a typed code isn't sent twice.
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target !== result) return;
      input.value = "";
      if (navigator.vibrate) {
        var ok = result.querySelector(".checkin-result.ok");
        navigator.vibrate(ok ? 80 : [60, 60, 60]);
      }
    });

    var scanner = document.getElementById("scanner");
    var start = document.getElementById("scan-start");
    var stop = document.getElementById("scan-stop");
    var video = document.getElementById("camera");
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return; // the code box it is
    }

    var detector = null;
    var stream = null;
    var timer = null;
    var lastCode = "";
    var lastAt = 0;

    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") === -1) return;
      detector = new window.BarcodeDetector({formats: ["qr_code"]});
      scanner.hidden = false;
    }).catch(function () { /* no detector: the code box it is */ });

    function scan() {
      if (!stream) return;
      detector.detect(video).then(function (codes) {
        var now = Date.now();
        if (codes.length) {
          var code = codes[0].rawValue.trim();
          if (code && (code !== lastCode || now - lastAt > SAME_CODE_PAUSE_MS)) {
            lastCode = code;
            lastAt = now;
            submitTicket(form, input, code); // the server reads a bare code or a link ending in one
          }
        }
      }).catch(function () { /* a frame that could not be read: try the next */ })
        .then(function () { if (stream) timer = window.setTimeout(scan, SCAN_EVERY_MS); });
    }

    function stopScanning() {
      window.clearTimeout(timer);
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.hidden = true;
      stop.hidden = true;
      start.hidden = false;
    }

    start.addEventListener("click", function () {
      navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false}).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        stop.hidden = false;
        start.hidden = true;
        return video.play();
      }).then(scan).catch(function () {
        stopScanning();
        scanner.hidden = true; // camera refused or missing: the code box it is
        input.focus();
      });
    });
    stop.addEventListener("click", stopScanning);
    document.addEventListener("visibilitychange", function () { if (document.hidden) stopScanning(); });
  });
})();
