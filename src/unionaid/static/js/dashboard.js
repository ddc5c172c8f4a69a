/* The home dashboard: one ECharts chart per card, its data from the json_script block beside it
   (no inline script: the CSP forbids it); a unit's bar opens that unit's breakdown; the print
   button prints the page (the print stylesheet shows the tables instead of the charts). */
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
  function openTables() {
    document.querySelectorAll(".dashboard-table").forEach(function (d) { d.open = true; });
  }
  window.addEventListener("beforeprint", openTables);  // the browser's own print too
  var print = document.getElementById("print-report");
  if (print) {
    print.addEventListener("click", function () { openTables(); window.print(); });
  }
  if (typeof echarts === "undefined") { return; }
  document.querySelectorAll("[data-chart]").forEach(function (holder) {
    var source = document.getElementById(holder.getAttribute("data-chart"));
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    var chart = echarts.init(holder, null, { renderer: "canvas" });
    var option;
    if (data.kind === "pie") {
      option = {
        tooltip: { trigger: "item", confine: true },
        legend: { type: "scroll", bottom: 0 },
        series: [{ type: "pie", radius: ["35%", "65%"], data: data.categories.map(function (c, i) {
          return { name: c, value: data.series[0].data[i] };
        }) }]
      };
    } else {
      option = {
        tooltip: { trigger: "axis", confine: true },
        legend: { type: "scroll", bottom: 0 },
        grid: gridFor(categoryLabels(holder, data.categories)),
        xAxis: { type: "category", data: data.categories,
                axisLabel: categoryLabels(holder, data.categories) },
        // two measures of different units (件 and 元) on a line chart: one scale each, named
        yAxis: data.series.length > 1 && data.kind === "line"
          ? data.series.slice(0, 2).map(function (s, i) {
            return { type: "value", name: s.name, nameTextStyle: { align: i ? "right" : "left" },
                     splitLine: { show: i === 0 } };
          })
          : { type: "value" },
        series: data.series.map(function (s, i) {
          return {
            name: s.name, data: s.data,
            type: data.kind === "line" ? "line" : "bar",
            stack: data.kind === "stack" ? "total" : undefined,
            yAxisIndex: data.kind === "line" && data.series.length > 1 ? Math.min(i, 1) : 0,
            symbolSize: data.categories.length === 1 ? 10 : 4
          };
        })
      };
    }
    chart.setOption(option);
    chart.on("click", function (params) {
      var url = data.drill && data.drill[params.dataIndex];
      if (url) { window.location.href = url; }
    });
    window.addEventListener("resize", function () {
      if (data.kind !== "pie") {
        var labels = categoryLabels(holder, data.categories);
        chart.setOption({ grid: gridFor(labels), xAxis: { axisLabel: labels } });
      }
      chart.resize();
    });
  });
})();
