// KPI charts: every <canvas data-chart="ID"> is drawn from the JSON in <script id="ID">
// (Chart.js, vendored in static/vendor/chartjs). Redrawn after htmx swaps.
(function () {
  "use strict";
  var palette = ["#2563eb", "#16a34a", "#f59e0b", "#dc2626", "#7c3aed"];
  function draw(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var spec = JSON.parse(source.textContent);
      var existing = window.Chart.getChart(canvas);
      if (existing) existing.destroy();
      var hasRight = spec.datasets.some(function (d) { return d.yAxisID === "y1"; });
      new window.Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: spec.datasets.map(function (d, i) {
            return {
              label: d.label, data: d.data, yAxisID: d.yAxisID,
              borderColor: palette[i % palette.length],
              backgroundColor: palette[i % palette.length] + (spec.type === "bar" ? "cc" : "33"),
              borderWidth: 2, pointRadius: 0, tension: 0.2, spanGaps: true,
              type: d.yAxisID === "y1" ? "line" : spec.type
            };
          })
        },
        options: {
          animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
          plugins: { legend: { position: "bottom", labels: { boxWidth: 10 } } },
          scales: Object.assign(
            { y: { beginAtZero: true, position: "left" } },
            hasRight ? { y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } : {}
          )
        }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (e) { draw(e.target); });
  window.addEventListener("beforeprint", function () {
    Object.values(window.Chart ? window.Chart.instances : {}).forEach(function (c) { c.resize(); });
  });
})();
