/* The console's reports page: fetches /console/api/metrics and draws KPI tiles and charts.
 *
 * Chart.js (static/helpdesk/vendor/chartjs) draws; this file only shapes the API's answer.
 * Every text from the server goes in with textContent, never as HTML.
 */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("metrics-bootstrap").textContent);
  var root = document.querySelector('[data-testid="reports"]');
  var statusEl = root.querySelector('[data-testid="status"]');
  var periodEl = root.querySelector('[data-testid="period"]');
  var rangeButtons = Array.prototype.slice.call(root.querySelectorAll("[data-days]"));
  var charts = {};
  var current = null; // the request in flight, so a quick second click wins
  var numberFormat = new Intl.NumberFormat();
  var dayFormat = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  var longDayFormat = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", timeZone: "UTC",
  });

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  var colors = {
    brand: cssVar("--brand", "#2f5bea"),
    bot: cssVar("--bot", "#6d3fd6"),
    queued: cssVar("--queued", "#a55a00"),
    resolved: cssVar("--resolved", "#197a45"),
    muted: cssVar("--muted", "#687083"),
    grid: cssVar("--border", "#e4e7ee"),
  };

  function alpha(hex, a) {
    var m = /^#([0-9a-f]{6})$/i.exec(hex);
    if (!m) return hex;
    var n = parseInt(m[1], 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  // --- formatting ---------------------------------------------------------------------------

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    if (seconds < 60) return (seconds < 10 ? Math.round(seconds * 10) / 10 : Math.round(seconds)) + " s";
    var minutes = Math.floor(seconds / 60);
    if (minutes < 60) {
      var s = Math.round(seconds - minutes * 60);
      return minutes + " min" + (s && minutes < 10 ? " " + s + " s" : "");
    }
    var hours = Math.floor(minutes / 60);
    if (hours < 24) return hours + " h" + (minutes % 60 ? " " + (minutes % 60) + " min" : "");
    var days = Math.floor(hours / 24);
    return days + " d" + (hours % 24 ? " " + (hours % 24) + " h" : "");
  }

  function percent(ratio) {
    if (ratio === null || ratio === undefined) return "–";
    return (Math.round(ratio * 1000) / 10) + "%";
  }

  function compact(n) {
    if (n >= 1e6) return (Math.round(n / 1e5) / 10) + "M";
    if (n >= 1e4) return (Math.round(n / 1e2) / 10) + "k";
    return numberFormat.format(n);
  }

  function axisNumber(n) {
    if (n >= 1e6) return n / 1e6 + "M";
    if (n >= 1e3) return n / 1e3 + "k";
    return String(n);
  }

  function setStatus(text, kind) {
    statusEl.hidden = !text;
    statusEl.textContent = text || "";
    if (kind) statusEl.setAttribute("data-kind", kind);
    else statusEl.removeAttribute("data-kind");
  }

  function tile(name, value, note) {
    var el = root.querySelector('[data-testid="kpi-' + name + '"]');
    el.querySelector('[data-field="value"]').textContent = value;
    el.querySelector('[data-field="note"]').textContent = note || "\u00a0";
  }

  // --- charts --------------------------------------------------------------------------------

  function canvasOf(testid) {
    return root.querySelector('[data-testid="' + testid + '"] canvas');
  }

  function showEmpty(testid, empty, text) {
    var box = root.querySelector('[data-testid="' + testid + '"] .rp-chart');
    var overlay = box.querySelector(".rp-empty");
    if (empty && !overlay) {
      overlay = document.createElement("div");
      overlay.className = "rp-empty";
      box.appendChild(overlay);
    }
    if (overlay) {
      overlay.hidden = !empty;
      overlay.textContent = text || "No data in this period";
    }
  }

  var baseOptions = {
    responsive: true,
    maintainAspectRatio: false,
    animation: { duration: 250 },
    interaction: { mode: "index", intersect: false },
    plugins: { legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } } },
    elements: { line: { cubicInterpolationMode: "monotone" } },
    scales: {
      x: { grid: { display: false }, ticks: { color: colors.muted, maxRotation: 0, autoSkip: true } },
      y: { beginAtZero: true, grid: { color: colors.grid }, ticks: { color: colors.muted, precision: 0 } },
    },
  };

  function options(extra) {
    // A deep enough copy for our two levels of nesting.
    var o = JSON.parse(JSON.stringify(baseOptions));
    Object.keys(extra || {}).forEach(function (key) {
      if (o[key] && typeof o[key] === "object" && !Array.isArray(o[key])) Object.assign(o[key], extra[key]);
      else o[key] = extra[key];
    });
    return o;
  }

  function makeCharts() {
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = colors.muted;

    var dailyOptions = options();
    // Bars behind lines (order), but the legend in the order the datasets are listed.
    dailyOptions.plugins.legend.labels.sort = function (a, b) { return a.datasetIndex - b.datasetIndex; };
    charts.daily = new Chart(canvasOf("chart-daily"), {
      type: "bar",
      data: {
        labels: [],
        datasets: [
          { label: "Conversations", data: [], backgroundColor: alpha(colors.brand, 0.75), borderRadius: 3, order: 3 },
          {
            label: "Handed off", data: [], type: "line", borderColor: colors.queued,
            backgroundColor: colors.queued, pointRadius: 2, order: 1,
          },
          {
            label: "Resolved by the bot", data: [], type: "line", borderColor: colors.bot,
            backgroundColor: colors.bot, pointRadius: 2, order: 2,
          },
        ],
      },
      options: dailyOptions,
    });

    // Shares rather than counts: nearly every first response is quick, and on a count scale
    // that one bar would flatten the resolution times next to it.
    var timesOptions = options();
    timesOptions.scales.x.ticks.autoSkip = false;
    timesOptions.scales.x.ticks.maxRotation = 45;
    timesOptions.scales.y.suggestedMax = 100;
    timesOptions.scales.y.ticks = { color: colors.muted, callback: function (v) { return v + "%"; } };
    timesOptions.plugins.tooltip = {
      callbacks: {
        label: function (item) {
          var counts = item.dataset.counts || [];
          return item.dataset.label + ": " + numberFormat.format(counts[item.dataIndex] || 0) +
            " (" + Math.round(item.parsed.y * 10) / 10 + "%)";
        },
      },
    };
    charts.times = new Chart(canvasOf("chart-times"), {
      type: "bar",
      data: {
        labels: [],
        datasets: [
          { label: "First response", data: [], backgroundColor: alpha(colors.brand, 0.8), borderRadius: 3 },
          { label: "Resolution", data: [], backgroundColor: alpha(colors.resolved, 0.8), borderRadius: 3 },
        ],
      },
      options: timesOptions,
    });

    charts.reasons = new Chart(canvasOf("chart-reasons"), {
      type: "bar",
      data: { labels: [], datasets: [{ label: "Handoffs", data: [], backgroundColor: alpha(colors.queued, 0.75), borderRadius: 3 }] },
      options: options({
        indexAxis: "y",
        plugins: { legend: { display: false } },
        interaction: { mode: "nearest", axis: "y", intersect: false },
        scales: {
          x: { beginAtZero: true, grid: { color: colors.grid }, ticks: { color: colors.muted, precision: 0 } },
          y: {
            grid: { display: false },
            ticks: {
              color: colors.muted,
              autoSkip: false,
              // Long reasons are cut on the axis; the tooltip has them whole.
              callback: function (value) {
                var label = this.getLabelForValue(value);
                return label.length > 28 ? label.slice(0, 27) + "…" : label;
              },
            },
          },
        },
      }),
    });

    charts.tokens = new Chart(canvasOf("chart-tokens"), {
      type: "bar",
      data: {
        labels: [],
        datasets: [
          { label: "Prompt", data: [], backgroundColor: alpha(colors.brand, 0.7), stack: "t" },
          { label: "Completion", data: [], backgroundColor: alpha(colors.bot, 0.75), stack: "t" },
        ],
      },
      options: options({
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { color: colors.muted, maxRotation: 0 } },
          y: {
            stacked: true, beginAtZero: true, grid: { color: colors.grid },
            ticks: { color: colors.muted, precision: 0, callback: function (v) { return axisNumber(v); } },
          },
        },
      }),
    });
  }

  // --- rendering -----------------------------------------------------------------------------

  function render(m) {
    var c = m.conversations;
    var start = new Date(m.period.start);
    var last = new Date(new Date(m.period.end).getTime() - 1);
    periodEl.textContent = longDayFormat.format(start) + " – " + longDayFormat.format(last) +
      " · last " + m.period.days + " days (UTC)";

    tile("started", numberFormat.format(c.started),
      numberFormat.format(c.resolved) + " resolved · " + numberFormat.format(c.open) + " open");
    tile("first-response", duration(m.first_response.median),
      m.first_response.count ? "p90 " + duration(m.first_response.p90) + " · " +
        numberFormat.format(m.first_response.count) + " answered" : "no answers yet");
    tile("resolution", duration(m.resolution.median),
      m.resolution.count ? "p90 " + duration(m.resolution.p90) + " · " +
        numberFormat.format(m.resolution.count) + " resolved" : "none resolved");
    tile("bot-share", percent(c.bot_resolution_share),
      numberFormat.format(c.resolved_by_bot) + " of " + numberFormat.format(c.resolved) + " resolved");
    tile("handoff", percent(m.handoff.rate),
      numberFormat.format(m.handoff.handed_off) + " of " + numberFormat.format(m.handoff.started_with_bot) +
        " bot conversations");
    tile("tokens", compact(m.tokens.total),
      compact(m.tokens.prompt) + " prompt · " + compact(m.tokens.completion) + " completion");

    var labels = m.daily.map(function (d) { return dayFormat.format(new Date(d.date + "T00:00:00Z")); });
    update(charts.daily, labels, [
      m.daily.map(function (d) { return d.conversations; }),
      m.daily.map(function (d) { return d.handoffs; }),
      m.daily.map(function (d) { return d.resolved_by_bot; }),
    ]);
    showEmpty("chart-daily", c.started === 0, "No conversations in this period");

    charts.times.data.datasets[0].counts = m.distribution.first_response;
    charts.times.data.datasets[1].counts = m.distribution.resolution;
    update(charts.times, m.distribution.buckets, [
      shares(m.distribution.first_response), shares(m.distribution.resolution),
    ]);
    showEmpty("chart-times", m.first_response.count === 0 && m.resolution.count === 0);

    update(charts.reasons, m.handoff.reasons.map(function (r) { return r.reason; }),
      [m.handoff.reasons.map(function (r) { return r.count; })]);
    showEmpty("chart-reasons", m.handoff.reasons.length === 0, "No handoffs in this period");

    update(charts.tokens, labels, [
      m.daily.map(function (d) { return d.prompt_tokens; }),
      m.daily.map(function (d) { return d.completion_tokens; }),
    ]);
    showEmpty("chart-tokens", m.tokens.total === 0, "No tokens used in this period");

    rows('[data-testid="responders"] tbody', [
      ["Bot", m.first_response.by_responder.bot],
      ["Agent", m.first_response.by_responder.agent],
    ].map(function (pair) {
      var r = pair[1];
      return [pair[0], numberFormat.format(r.count), duration(r.median), duration(r.p90)];
    }), 4);
    rows('[data-testid="models"] tbody', m.tokens.by_model.map(function (r) {
      return [r.model, numberFormat.format(r.replies), numberFormat.format(r.prompt),
        numberFormat.format(r.completion), numberFormat.format(r.total)];
    }), 5, "No tokens used in this period");
  }

  function shares(counts) {
    var total = counts.reduce(function (a, b) { return a + b; }, 0);
    return counts.map(function (n) { return total ? (100 * n) / total : 0; });
  }

  function update(chart, labels, series) {
    chart.data.labels = labels;
    series.forEach(function (data, i) { chart.data.datasets[i].data = data; });
    chart.update();
  }

  function rows(selector, data, columns, emptyText) {
    var tbody = root.querySelector(selector);
    tbody.textContent = "";
    if (!data.length) {
      var tr = tbody.insertRow();
      var td = tr.insertCell();
      td.colSpan = columns;
      td.className = "muted";
      td.textContent = emptyText;
      return;
    }
    data.forEach(function (cells) {
      var tr = tbody.insertRow();
      cells.forEach(function (text) { tr.insertCell().textContent = text; });
    });
  }

  // --- loading -------------------------------------------------------------------------------

  function load(days) {
    rangeButtons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-days")) === days));
    });
    var url = new URL(window.location.href);
    url.searchParams.set("days", String(days));
    window.history.replaceState(null, "", url.pathname + url.search);
    setStatus("Loading…");
    root.setAttribute("aria-busy", "true");

    var request = {};
    current = request;
    fetch(boot.urls.metrics + "?days=" + days, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { ok: response.ok, status: response.status, body: body };
        });
      })
      .then(function (result) {
        if (current !== request) return;
        if (!result.ok) {
          var code = result.body && result.body.error && result.body.error.code;
          if (code === "unauthenticated") {
            window.location.href = boot.urls.login + "?next=" + encodeURIComponent(window.location.pathname);
            return;
          }
          var message = (result.body && result.body.error && result.body.error.message) ||
            "The reports could not be loaded (HTTP " + result.status + ").";
          setStatus(message, "error");
          return;
        }
        render(result.body);
        setStatus("");
        root.setAttribute("data-loaded", String(days));
      })
      .catch(function () {
        if (current !== request) return;
        setStatus("The reports could not be loaded. Check the connection and try again.", "error");
      })
      .then(function () {
        if (current === request) root.removeAttribute("aria-busy");
      });
  }

  function initialDays() {
    var asked = Number(new URLSearchParams(window.location.search).get("days"));
    return boot.ranges.indexOf(asked) >= 0 ? asked : boot.defaultDays;
  }

  rangeButtons.forEach(function (button) {
    button.addEventListener("click", function () { load(Number(button.getAttribute("data-days"))); });
  });

  if (typeof Chart === "undefined") {
    setStatus("The chart library did not load.", "error");
    return;
  }
  makeCharts();
  load(initialDays());
})();
