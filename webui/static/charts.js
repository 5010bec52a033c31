/* listarchive charts.
 *
 * Draws every <figure class="chart" data-src data-path data-x data-series data-kind> with
 * Chart.js (webui/static/vendor/chart.umd.min.js, loaded before this file) from the page's
 * JSON twin:
 *   data-src     URL of the JSON (same origin only)
 *   data-path    dot path to an array of rows in it ("months", "stats.by_year"; "" = the root)
 *   data-x       the field giving the x labels
 *   data-series  comma-separated numeric fields, one line or bar series each
 *   data-labels  optional comma-separated series names for the legend
 *   data-kind    "line" (default) or "bar"
 *   data-label   what the chart shows (for screen readers; the table has the numbers)
 * A drawn figure gets the class "rendered" (until then the stylesheet hides it).  If the fetch,
 * the data or Chart.js fails, nothing is drawn: the table beside the chart is the fallback,
 * and so it is without JavaScript.  No inline script or style is needed (CSP script-src 'self').
 */
(function () {
  "use strict";

  var KINDS = { line: true, bar: true };
  var PALETTE = ["#0b57a4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d"];

  function pick(data, path) {
    if (!path) return data;
    return path.split(".").reduce(function (value, key) {
      return value === null || value === undefined ? undefined : value[key];
    }, data);
  }

  function list(text) {
    return (text || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function sameOrigin(src) {
    try {
      return new URL(src, window.location.href).origin === window.location.origin;
    } catch (e) {
      return false;
    }
  }

  function number(value) {
    if (value === null || value === undefined || value === "") return null;
    var n = Number(value);
    return isFinite(n) ? n : null;
  }

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function draw(figure, data) {
    var rows = pick(data, figure.dataset.path);
    var x = figure.dataset.x;
    var series = list(figure.dataset.series);
    var names = list(figure.dataset.labels);
    if (!Array.isArray(rows) || rows.length === 0 || !x || series.length === 0) return;
    var kind = KINDS[figure.dataset.kind] ? figure.dataset.kind : "line";
    var text = getComputedStyle(figure).color;
    var grid = cssVar("--line", "rgba(128,128,128,0.3)");

    var box = document.createElement("div");
    box.className = "chart-box";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", figure.dataset.label || "Chart; the numbers are in the table");
    box.appendChild(canvas);
    figure.insertBefore(box, figure.firstChild);
    try {
      new window.Chart(canvas, {
        type: kind,
        data: {
          labels: rows.map(function (row) { return String(row[x]); }),
          datasets: series.map(function (field, i) {
            var colour = PALETTE[i % PALETTE.length];
            return {
              label: names[i] || field,
              data: rows.map(function (row) { return number(row[field]); }),
              borderColor: colour,
              backgroundColor: kind === "bar" ? colour : colour + "33",
              pointRadius: rows.length > 60 ? 0 : 2,
              borderWidth: kind === "bar" ? 0 : 2,
            };
          }),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          color: text,
          interaction: { mode: "index", intersect: false },
          plugins: { legend: { display: series.length > 1, labels: { color: text } } },
          scales: {
            x: { ticks: { color: text }, grid: { color: grid } },
            y: { beginAtZero: true, ticks: { color: text, precision: 0 }, grid: { color: grid } },
          },
        },
      });
      figure.classList.add("rendered");
    } catch (e) {
      box.remove();
    }
  }

  function start() {
    if (typeof window.Chart !== "function" || typeof window.fetch !== "function") return;
    var figures = document.querySelectorAll("figure.chart[data-src]");
    var loads = {};
    Array.prototype.forEach.call(figures, function (figure) {
      var src = figure.dataset.src;
      if (!sameOrigin(src)) return;
      if (!loads[src]) {
        loads[src] = fetch(src, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        }).then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        });
      }
      loads[src].then(function (data) { draw(figure, data); }, function () {});
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
