// The public signboard's form: "使用我的位置" fills longitude and latitude from the phone's location.
// Without a location service (or without permission) the fields stay as they are; they are optional.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-locate]");
    if (!button || !("geolocation" in navigator)) return;
    var status = document.querySelector("[data-locate-status]");
    var form = button.closest("form");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = "正在获取位置…";
      navigator.geolocation.getCurrentPosition(
        function (position) {
          form.elements.longitude.value = position.coords.longitude.toFixed(6);
          form.elements.latitude.value = position.coords.latitude.toFixed(6);
          status.textContent = "已填入当前位置（精度约 " + Math.round(position.coords.accuracy) + " 米）";
        },
        function () {
          status.textContent = "无法获取位置，可手动填写或不填";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  });
})();
