/* The statistics page: the ECharts chart of the table (data from the json_script block, no
   inline script: the CSP forbids it) and a new query when the fact changes. */
(function () {
  "use strict";
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
    grid: { left: 8, right: 8, top: 16, bottom: 48, containLabel: true },
    xAxis: { type: "category", data: data.categories, axisLabel: { hideOverlap: true } },
    yAxis: { type: "value" },
    series: data.series.map(function (s) {
      return { name: s.name, type: data.line ? "line" : "bar", data: s.data };
    })
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
