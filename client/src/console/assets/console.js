// Setu console: the little script the pages need. It writes times in the officer's own
// zone, keeps the alert wall live (server-sent events from /events; each event fetches the
// cards again from /wall), counts down to each acknowledgement deadline, turns overdue
// cards red and beeps for an overdue or new FLASH alert (WebAudio, no sound file). No
// data is stored in the browser.
"use strict";

(function () {
  var lang = document.body.getAttribute("data-lang") === "hi" ? "hi-IN" : "en-IN";

  // Times: <time data-ms> in the browser's zone, with the zone in the tooltip.
  function localTimes(root) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    root.querySelectorAll("time[data-ms]").forEach(function (el) {
      var ms = Number(el.getAttribute("data-ms"));
      if (!ms) { return; }
      var date = new Date(ms);
      el.textContent = date.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" });
      el.setAttribute("datetime", date.toISOString());
      el.title = zone;
    });
  }

  // The print button of the dossier.
  document.querySelectorAll("[data-print]").forEach(function (el) {
    el.addEventListener("click", function () { window.print(); });
  });

  // Forms with a local date and time: sent as Unix milliseconds.
  document.querySelectorAll("input[data-ms-into]").forEach(function (el) {
    el.form.addEventListener("submit", function () {
      var target = el.form.querySelector("input[name='" + el.getAttribute("data-ms-into") + "']");
      target.value = el.value ? String(new Date(el.value).getTime()) : "";
    });
  });

  localTimes(document);

  var wall = document.getElementById("wall");
  if (!wall) { return; }
  var cards = document.getElementById("cards");
  var live = document.getElementById("live");
  var soundButton = document.getElementById("sound");
  var audio = null;
  var soundOn = false;
  var offset = 0;          // The node's clock minus the browser's, from the last fragment.
  var seen = {};           // Alert ids on the wall, to notice new FLASH ones.
  var overdueSeen = {};    // FLASH alerts that have already sounded as overdue.
  var lastRing = 0;

  function beep() {
    if (!soundOn || !audio) { return; }
    var start = audio.currentTime;
    for (var i = 0; i < 3; i++) {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      gain.gain.value = 0.2;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start(start + i * 0.35);
      osc.stop(start + i * 0.35 + 0.2);
    }
  }

  soundButton.addEventListener("click", function () {
    soundOn = !soundOn;
    if (soundOn && !audio) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) { audio = new Ctx(); }
    }
    soundButton.textContent = wall.getAttribute(soundOn ? "data-sound-on" : "data-sound-off");
    if (soundOn) { beep(); }
  });

  function two(n) { return n < 10 ? "0" + n : String(n); }
  function span(ms) {
    var s = Math.floor(Math.abs(ms) / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    return (h > 0 ? h + ":" + two(m) : String(m)) + ":" + two(s % 60);
  }

  // Countdowns, once a second; an overdue FLASH rings once, then every minute.
  function tick() {
    var now = Date.now() + offset;
    var ring = false;
    cards.querySelectorAll("article.alert").forEach(function (card) {
      var out = card.querySelector(".countdown");
      var deadline = Number(card.getAttribute("data-deadline") || 0);
      if (!deadline) { if (out) { out.textContent = ""; } return; }
      var left = deadline - now;
      if (left >= 0) {
        out.textContent = wall.getAttribute("data-due") + " " + span(left);
      } else {
        out.textContent = wall.getAttribute("data-overdue") + " " + span(left);
        card.classList.add("overdue");
        if (card.getAttribute("data-priority") === "flash") {
          var id = card.getAttribute("data-id");
          if (!overdueSeen[id]) { overdueSeen[id] = true; ring = true; }
          else if (Date.now() - lastRing > 60000) { ring = true; }
        }
      }
    });
    if (ring) { lastRing = Date.now(); beep(); }
  }

  function adopt(first) {
    var root = cards.querySelector(".cards");
    var serverNow = root ? Number(root.getAttribute("data-now") || 0) : 0;
    if (serverNow) { offset = serverNow - Date.now(); }
    var fresh = false;
    cards.querySelectorAll("article.alert").forEach(function (card) {
      var id = card.getAttribute("data-id");
      if (!seen[id] && !first && card.getAttribute("data-priority") === "flash") { fresh = true; }
      seen[id] = true;
    });
    localTimes(cards);
    tick();
    if (fresh) { beep(); }
  }

  var pending = null;
  var typing = function () {
    var active = document.activeElement;
    return active && cards.contains(active) && active.tagName === "INPUT" && active.value;
  };
  function refresh() {
    if (pending) { return; }
    pending = setTimeout(function () {
      pending = null;
      // An officer typing an acknowledgement note keeps it: try again shortly.
      if (typing()) { refresh(); return; }
      fetch("/wall", { credentials: "same-origin", cache: "no-store" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) { cards.innerHTML = html; adopt(false); })
        .catch(function () { live.classList.remove("on"); });
    }, 100);
  }

  adopt(true);
  setInterval(tick, 1000);
  // Expiries and deadlines change cards without an event: a slow refresh catches them.
  setInterval(refresh, 30000);

  var source = new EventSource("/events");
  source.addEventListener("ready", function () {
    live.textContent = live.getAttribute("data-live");
    live.classList.add("on");
    refresh();
  });
  source.addEventListener("alert", function () { refresh(); });
  source.addEventListener("failure", function (e) {
    live.textContent = live.getAttribute("data-reconnecting") + ": " + e.data;
    live.classList.remove("on");
  });
  source.onerror = function () {
    live.textContent = live.getAttribute("data-reconnecting");
    live.classList.remove("on");
  };
})();
