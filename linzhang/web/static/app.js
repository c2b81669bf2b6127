// linzhang pages: action errors shown beside the item, and the board's charts (Apache ECharts, served locally).
(function () {
  "use strict";

  // A refused action (4xx/5xx) shows its Chinese message in the item's message area, the item stays.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (xhr.status < 400 || xhr.status === 401) return;
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    var holder = source && source.closest("[data-messages]");
    var area = holder ? holder.querySelector(".messages") : document.getElementById("page-messages");
    if (!area) return;
    event.detail.shouldSwap = true;
    event.detail.isError = false;
    event.detail.target = area;
    event.detail.swapOverride = "innerHTML";
    event.detail.selectOverride = ".message";
  });

  var charts = [];

  // Beyond this many bars, bars lie down so that every name stays readable (a phone, 38 districts).
  var MAX_STANDING_BARS = 8;
  var ROW_HEIGHT = 24;

  function bar(element, names, values, options) {
    if (!options.line && names.length > MAX_STANDING_BARS) {
      options.horizontal = true;
      element.style.height = Math.max(280, names.length * ROW_HEIGHT + 40) + "px";
    }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: options.horizontal ? { type: "value", minInterval: 1 } : { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 40 : 0 } },
      yAxis: options.horizontal ? { type: "category", data: names, inverse: true } : { type: "value", minInterval: 1 },
      series: [{ type: options.line ? "line" : "bar", data: values, barMaxWidth: 48, itemStyle: { color: options.color || "#1f6b45" }, areaStyle: options.line ? { opacity: 0.15 } : undefined }],
    });
    charts.push(chart);
    return chart;
  }

  function drawBoard() {
    charts.forEach(function (chart) { chart.dispose(); });
    charts = [];
    var source = document.getElementById("board-data");
    if (!source || typeof echarts === "undefined") return;
    var data = JSON.parse(source.textContent);
    var districts = document.getElementById("chart-districts");
    if (districts) {
      var chart = bar(districts, data.districts.map(function (d) { return d.name; }), data.districts.map(function (d) { return d.count; }), {});
      chart.on("click", function (params) {
        var picked = data.districts[params.dataIndex];
        if (picked && picked.code) window.location.href = "/board?district=" + encodeURIComponent(picked.code);
      });
    }
    var categories = document.getElementById("chart-categories");
    if (categories) bar(categories, data.categories.map(function (c) { return c.name; }), data.categories.map(function (c) { return c.count; }), { horizontal: true, color: "#1f5f99" });
    var aging = document.getElementById("chart-aging");
    if (aging) bar(aging, data.aging.map(function (a) { return a.name; }), data.aging.map(function (a) { return a.count; }), { color: "#c0392b" });
    var weekly = document.getElementById("chart-weekly");
    if (weekly) bar(weekly, data.weekly.map(function (w) { return w.week.slice(5); }), data.weekly.map(function (w) { return w.count; }), { line: true, color: "#b9770e" });
  }

  document.addEventListener("DOMContentLoaded", drawBoard);
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "board") drawBoard();
  });
  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
})();
