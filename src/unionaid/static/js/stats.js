/* The statistics page: the ECharts chart of the table (data from the json_script block, no
   inline script: the CSP forbids it) and a new query when the fact changes. */
(function () {
  "use strict";
  // Every category's name under its bar: turned aslant when they do not fit side by side
  // (ECharts otherwise drops the ones that overlap, leaving most bars unnamed).
  function categoryLabels(holder, categories) {
    var longest = categories.reduce(function (n, c) { return Math.max(n, String(c).length); }, 1);
    var fits = holder.clientWidth / Math.max(categories.length, 1) >= longest * 12 + 12;
    return { interval: 0, rotate: fits ? 0 : 40, width: 96, overflow: "truncate" };
  }
  // Room on the left for the first aslant name (the grid's containLabel leaves it cut off).
  function gridFor(labels) {
    return { left: labels.rotate ? 56 : 8, right: 8, top: 16, bottom: 48, containLabel: true };
  }
  var form = document.getElementById("stats-form");
  var fact = document.getElementById("stats-fact");
  if (form && fact) {
    fact.addEventListener("change", function () {
      // another fact has other dimensions and measures: start from its defaults
      window.location.search = "?fact=" + encodeURIComponent(fact.value);
    });
  }
  var holder = document.getElementById("stats-chart");
  var source = document.getElementById("stats-chart-data");
  if (!holder || !source || typeof echarts === "undefined") { return; }
  var data = JSON.parse(source.textContent);
  if (!data.series.length || !data.categories.length) { holder.classList.add("d-none"); return; }
  var chart = echarts.init(holder, null, { renderer: "canvas" });
  chart.setOption({
    tooltip: { trigger: "axis", confine: true },
    legend: { type: "scroll", bottom: 0 },
    grid: gridFor(categoryLabels(holder, data.categories)),
    xAxis: { type: "category", data: data.categories,
             axisLabel: categoryLabels(holder, data.categories) },
    yAxis: { type: "value" },
    series: data.series.map(function (s) {
      return { name: s.name, type: data.line ? "line" : "bar", data: s.data };
    })
  });
  window.addEventListener("resize", function () {
    var labels = categoryLabels(holder, data.categories);
    chart.setOption({ grid: gridFor(labels), xAxis: { axisLabel: labels } });
    chart.resize();
  });
})();
