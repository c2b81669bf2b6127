// 巡林 phone page: the live patrol's positions sent every 15 s in batches (a batch keeps its key until
// the server took it, so a batch sent twice is stored once), and the report form's location.
(function () {
  "use strict";

  var live = document.getElementById("live");
  if (!live) return;
  var patrolId = live.getAttribute("data-patrol-id");
  var interval = (parseInt(live.getAttribute("data-interval"), 10) || 15) * 1000;
  var csrf = (document.querySelector("input[name=csrf_token]") || {}).value || "";
  var status = document.getElementById("live-status");
  var where = document.getElementById("report-where");
  var pending = [];   // positions not yet in a batch
  var batches = [];   // batches not yet taken by the server: {key, points}
  var sent = 0;
  var sequence = 0;
  var last = null;

  function say(text) { if (status) status.textContent = text; }

  function remember(position) {
    var c = position.coords;
    last = c;
    var lon = document.getElementById("report-lon");
    var lat = document.getElementById("report-lat");
    if (lon && lat) { lon.value = c.longitude.toFixed(6); lat.value = c.latitude.toFixed(6); }
    if (where) where.textContent = "位置：" + c.longitude.toFixed(5) + ", " + c.latitude.toFixed(5);
    if (!patrolId) return;
    pending.push({
      lon: c.longitude,
      lat: c.latitude,
      time: new Date(position.timestamp || Date.now()).toISOString(),
      accuracy: Math.min(c.accuracy || 0, 10000)
    });
  }

  function flush() {
    if (!patrolId) return Promise.resolve();
    if (pending.length) {
      sequence += 1;
      batches.push({ key: "p" + patrolId + "-" + Date.now() + "-" + sequence, points: pending });
      pending = [];
    }
    var chain = Promise.resolve();
    batches.slice().forEach(function (batch) {
      chain = chain.then(function () {
        return fetch("/patrols/" + patrolId + "/points", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ batch_key: batch.key, points: batch.points })
        }).then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        }).then(function (body) {
          batches.splice(batches.indexOf(batch), 1);
          sent = body.point_count;
          say("已记录 " + sent + " 个轨迹点");
        });
      });
    });
    return chain.catch(function () { say("网络不通，已记录 " + sent + " 个点，稍后重发"); });
  }

  if (!navigator.geolocation) {
    say("此浏览器不能定位");
    return;
  }
  navigator.geolocation.watchPosition(
    function (position) {
      var first = last === null;
      remember(position);
      if (first) flush();
    },
    function () { say("无法获取位置，请允许本页使用定位"); },
    { enableHighAccuracy: true, maximumAge: 5000 }
  );
  if (patrolId) {
    setInterval(function () {
      if (last) remember({ coords: last, timestamp: Date.now() });
      flush();
    }, interval);
    var stop = document.getElementById("stop-form");
    if (stop) {
      stop.addEventListener("submit", function (event) {
        event.preventDefault();
        flush().then(function () { stop.submit(); });
      });
    }
  }
})();
