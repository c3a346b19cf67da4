/* The console's reports page: fetches /console/api/metrics and draws KPI tiles and charts.
 *
 * Chart.js (static/helpdesk/vendor/chartjs, a classic script that runs before this module)
 * draws; this file only shapes the API's answer. Every text from the server goes in with
 * textContent, never as HTML. Texts are in the page's language (shared/i18n.js; the handoff
 * reasons come worded by the server) and dates, numbers and durations in its formats
 * (shared/format.js); the translations come with the page's bootstrap.
 */
import {
  formatCompact,
  formatDate,
  formatDateRange,
  formatDuration,
  formatNumber,
  formatPercent,
  intlLocale,
} from "../shared/format.js";
import { gettext, interpolate, loadCatalog, ngettext } from "../shared/i18n.js";
import { alpha, cssVar, percent } from "./chart-style.js";
import { makeCsatChart, renderCsat } from "./metrics-csat.js";

const boot = JSON.parse(document.getElementById("metrics-bootstrap").textContent);
const root = document.querySelector('[data-testid="reports"]');
const statusEl = root.querySelector('[data-testid="status"]');
const periodEl = root.querySelector('[data-testid="period"]');
const rangeButtons = Array.prototype.slice.call(root.querySelectorAll("[data-days]"));
const charts = {};
let current = null; // the request in flight, so a quick second click wins

// Days are UTC days (the API's), so their labels are too.
const DAY = { month: "short", day: "numeric", timeZone: "UTC" };
const LONG_DAY = { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" };

// The API's time-distribution buckets (DISTRIBUTION_EDGES in helpdesk/conversations/metrics.py)
// as [from, to] in seconds, so that their labels can be said in the page's language. A label
// not listed here is shown as the API gives it.
const BUCKETS = {
  "< 30 s": [null, 30],
  "30 s – 2 min": [30, 120],
  "2 – 10 min": [120, 600],
  "10 – 60 min": [600, 3600],
  "1 – 4 h": [3600, 4 * 3600],
  "4 – 24 h": [4 * 3600, 86400],
  "> 1 day": [86400, null],
};

const colors = {
  brand: cssVar("--brand", "#2f5bea"),
  bot: cssVar("--bot", "#6d3fd6"),
  queued: cssVar("--queued", "#a55a00"),
  resolved: cssVar("--resolved", "#197a45"),
  muted: cssVar("--muted", "#687083"),
  grid: cssVar("--border", "#e4e7ee"),
};

// --- formatting ---------------------------------------------------------------------------

function bucketLabel(label) {
  const edges = BUCKETS[label];
  if (!edges) return label;
  if (edges[0] === null) return interpolate(gettext("under %(time)s"), { time: formatDuration(edges[1]) });
  if (edges[1] === null) return interpolate(gettext("over %(time)s"), { time: formatDuration(edges[0]) });
  return interpolate(gettext("%(from)s – %(to)s"), { from: formatDuration(edges[0]), to: formatDuration(edges[1]) });
}

function setStatus(text, kind) {
  statusEl.hidden = !text;
  statusEl.textContent = text || "";
  if (kind) statusEl.setAttribute("data-kind", kind);
  else statusEl.removeAttribute("data-kind");
}

function tile(name, value, note) {
  const el = root.querySelector('[data-testid="kpi-' + name + '"]');
  el.querySelector('[data-field="value"]').textContent = value;
  el.querySelector('[data-field="note"]').textContent = note || "\u00a0";
}

// --- charts --------------------------------------------------------------------------------

function canvasOf(testid) {
  return root.querySelector('[data-testid="' + testid + '"] canvas');
}

function showEmpty(testid, empty, text) {
  const box = root.querySelector('[data-testid="' + testid + '"] .rp-chart');
  let overlay = box.querySelector(".rp-empty");
  if (empty && !overlay) {
    overlay = document.createElement("div");
    overlay.className = "rp-empty";
    box.appendChild(overlay);
  }
  if (overlay) {
    overlay.hidden = !empty;
    overlay.textContent = text || gettext("No data in this period");
  }
}

const baseOptions = {
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
  const o = JSON.parse(JSON.stringify(baseOptions));
  Object.keys(extra || {}).forEach(function (key) {
    if (o[key] && typeof o[key] === "object" && !Array.isArray(o[key])) Object.assign(o[key], extra[key]);
    else o[key] = extra[key];
  });
  return o;
}

function makeCharts() {
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = colors.muted;
  // What Chart.js formats itself (tooltips' values) in the page's language too.
  Chart.defaults.locale = intlLocale();

  const dailyOptions = options();
  dailyOptions.scales.y.ticks.callback = function (v) { return formatNumber(v); };
  // Bars behind lines (order), but the legend in the order the datasets are listed.
  dailyOptions.plugins.legend.labels.sort = function (a, b) { return a.datasetIndex - b.datasetIndex; };
  charts.daily = new Chart(canvasOf("chart-daily"), {
    type: "bar",
    data: {
      labels: [],
      datasets: [
        { label: gettext("Conversations"), data: [], backgroundColor: alpha(colors.brand, 0.75), borderRadius: 3, order: 3 },
        {
          label: gettext("Handed off"), data: [], type: "line", borderColor: colors.queued,
          backgroundColor: colors.queued, pointRadius: 2, order: 1,
        },
        {
          label: gettext("Resolved by the bot"), data: [], type: "line", borderColor: colors.bot,
          backgroundColor: colors.bot, pointRadius: 2, order: 2,
        },
      ],
    },
    options: dailyOptions,
  });

  // Shares rather than counts: nearly every first response is quick, and on a count scale
  // that one bar would flatten the resolution times next to it.
  const timesOptions = options();
  timesOptions.scales.x.ticks.autoSkip = false;
  timesOptions.scales.x.ticks.maxRotation = 45;
  timesOptions.scales.y.suggestedMax = 100;
  timesOptions.scales.y.ticks = { color: colors.muted, callback: function (v) { return formatPercent(v / 100, 0); } };
  timesOptions.plugins.tooltip = {
    callbacks: {
      label: function (item) {
        const counts = item.dataset.counts || [];
        return interpolate(gettext("%(series)s: %(count)s (%(share)s)"), {
          series: item.dataset.label,
          count: formatNumber(counts[item.dataIndex] || 0),
          share: formatPercent(item.parsed.y / 100),
        });
      },
    },
  };
  charts.times = new Chart(canvasOf("chart-times"), {
    type: "bar",
    data: {
      labels: [],
      datasets: [
        { label: gettext("First response"), data: [], backgroundColor: alpha(colors.brand, 0.8), borderRadius: 3 },
        { label: gettext("Resolution"), data: [], backgroundColor: alpha(colors.resolved, 0.8), borderRadius: 3 },
      ],
    },
    options: timesOptions,
  });

  const reasonsOptions = options({
    indexAxis: "y",
    plugins: { legend: { display: false } },
    interaction: { mode: "nearest", axis: "y", intersect: false },
    scales: {
      x: { beginAtZero: true, grid: { color: colors.grid }, ticks: { color: colors.muted, precision: 0 } },
      y: { grid: { display: false }, ticks: { color: colors.muted, autoSkip: false } },
    },
  });
  reasonsOptions.scales.x.ticks.callback = function (v) { return formatNumber(v); };
  // Long reasons are cut on the axis; the tooltip has them whole.
  reasonsOptions.scales.y.ticks.callback = function (value) {
    const label = this.getLabelForValue(value);
    return label.length > 28 ? label.slice(0, 27) + "…" : label;
  };
  charts.reasons = new Chart(canvasOf("chart-reasons"), {
    type: "bar",
    data: { labels: [], datasets: [{ label: gettext("Handoffs"), data: [], backgroundColor: alpha(colors.queued, 0.75), borderRadius: 3 }] },
    options: reasonsOptions,
  });

  const tokensOptions = options({
    scales: {
      x: { stacked: true, grid: { display: false }, ticks: { color: colors.muted, maxRotation: 0 } },
      y: { stacked: true, beginAtZero: true, grid: { color: colors.grid }, ticks: { color: colors.muted, precision: 0 } },
    },
  });
  tokensOptions.scales.y.ticks.callback = function (v) { return formatCompact(v); };
  charts.tokens = new Chart(canvasOf("chart-tokens"), {
    type: "bar",
    data: {
      labels: [],
      datasets: [
        { label: gettext("Prompt"), data: [], backgroundColor: alpha(colors.brand, 0.7), stack: "t" },
        { label: gettext("Completion"), data: [], backgroundColor: alpha(colors.bot, 0.75), stack: "t" },
      ],
    },
    options: tokensOptions,
  });
  makeCsatChart(root);
}

// --- rendering -----------------------------------------------------------------------------

function ofTotal(part, whole, text) {
  return interpolate(text, { part: formatNumber(part), whole: formatNumber(whole) });
}

function render(m) {
  const c = m.conversations;
  const start = new Date(m.period.start);
  const last = new Date(new Date(m.period.end).getTime() - 1);
  periodEl.textContent = interpolate(
    ngettext("%(range)s · last %(days)s day (UTC)", "%(range)s · last %(days)s days (UTC)", m.period.days),
    { range: formatDateRange(start, last, LONG_DAY), days: formatNumber(m.period.days) },
  );

  tile("started", formatNumber(c.started),
    interpolate(gettext("%(resolved)s resolved · %(open)s open"), {
      resolved: formatNumber(c.resolved), open: formatNumber(c.open),
    }));
  tile("first-response", formatDuration(m.first_response.median),
    m.first_response.count
      ? interpolate(gettext("p90 %(p90)s · %(count)s answered"), {
        p90: formatDuration(m.first_response.p90), count: formatNumber(m.first_response.count),
      })
      : gettext("no answers yet"));
  tile("resolution", formatDuration(m.resolution.median),
    m.resolution.count
      ? interpolate(gettext("p90 %(p90)s · %(count)s resolved"), {
        p90: formatDuration(m.resolution.p90), count: formatNumber(m.resolution.count),
      })
      : gettext("none resolved"));
  tile("bot-share", percent(c.bot_resolution_share),
    ofTotal(c.resolved_by_bot, c.resolved, gettext("%(part)s of %(whole)s resolved")));
  tile("handoff", percent(m.handoff.rate),
    ofTotal(m.handoff.handed_off, m.handoff.started_with_bot, gettext("%(part)s of %(whole)s bot conversations")));
  tile("tokens", formatCompact(m.tokens.total),
    interpolate(gettext("%(prompt)s prompt · %(completion)s completion"), {
      prompt: formatCompact(m.tokens.prompt), completion: formatCompact(m.tokens.completion),
    }));

  const labels = m.daily.map(function (d) { return formatDate(d.date + "T00:00:00Z", DAY); });
  update(charts.daily, labels, [
    m.daily.map(function (d) { return d.conversations; }),
    m.daily.map(function (d) { return d.handoffs; }),
    m.daily.map(function (d) { return d.resolved_by_bot; }),
  ]);
  showEmpty("chart-daily", c.started === 0, gettext("No conversations in this period"));

  charts.times.data.datasets[0].counts = m.distribution.first_response;
  charts.times.data.datasets[1].counts = m.distribution.resolution;
  update(charts.times, m.distribution.buckets.map(bucketLabel), [
    shares(m.distribution.first_response), shares(m.distribution.resolution),
  ]);
  showEmpty("chart-times", m.first_response.count === 0 && m.resolution.count === 0);

  update(charts.reasons, m.handoff.reasons.map(function (r) { return r.reason; }),
    [m.handoff.reasons.map(function (r) { return r.count; })]);
  showEmpty("chart-reasons", m.handoff.reasons.length === 0, gettext("No handoffs in this period"));

  update(charts.tokens, labels, [
    m.daily.map(function (d) { return d.prompt_tokens; }),
    m.daily.map(function (d) { return d.completion_tokens; }),
  ]);
  showEmpty("chart-tokens", m.tokens.total === 0, gettext("No tokens used in this period"));

  rows('[data-testid="responders"] tbody', [
    [gettext("Bot"), m.first_response.by_responder.bot],
    [gettext("Agent"), m.first_response.by_responder.agent],
  ].map(function (pair) {
    const r = pair[1];
    return [pair[0], formatNumber(r.count), formatDuration(r.median), formatDuration(r.p90)];
  }), 4);
  rows('[data-testid="models"] tbody', m.tokens.by_model.map(function (r) {
    return [r.model, formatNumber(r.replies), formatNumber(r.prompt),
      formatNumber(r.completion), formatNumber(r.total)];
  }), 5, gettext("No tokens used in this period"));
  renderCsat(root, m);
}

function shares(counts) {
  const total = counts.reduce(function (a, b) { return a + b; }, 0);
  return counts.map(function (n) { return total ? (100 * n) / total : 0; });
}

function update(chart, labels, series) {
  chart.data.labels = labels;
  series.forEach(function (data, i) { chart.data.datasets[i].data = data; });
  chart.update();
}

function rows(selector, data, columns, emptyText) {
  const tbody = root.querySelector(selector);
  tbody.textContent = "";
  if (!data.length) {
    const tr = tbody.insertRow();
    const td = tr.insertCell();
    td.colSpan = columns;
    td.className = "muted";
    td.textContent = emptyText;
    return;
  }
  data.forEach(function (cells) {
    const tr = tbody.insertRow();
    cells.forEach(function (text) { tr.insertCell().textContent = text; });
  });
}

// --- loading -------------------------------------------------------------------------------

function load(days) {
  rangeButtons.forEach(function (b) {
    b.setAttribute("aria-pressed", String(Number(b.getAttribute("data-days")) === days));
  });
  const url = new URL(window.location.href);
  url.searchParams.set("days", String(days));
  window.history.replaceState(null, "", url.pathname + url.search);
  setStatus(gettext("Loading…"));
  root.setAttribute("aria-busy", "true");

  const request = {};
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
        const code = result.body && result.body.error && result.body.error.code;
        if (code === "unauthenticated") {
          window.location.href = boot.urls.login + "?next=" + encodeURIComponent(window.location.pathname);
          return;
        }
        const message = (result.body && result.body.error && result.body.error.message) ||
          interpolate(gettext("The reports could not be loaded (HTTP %(status)s)."), { status: result.status });
        setStatus(message, "error");
        return;
      }
      render(result.body);
      setStatus("");
      root.setAttribute("data-loaded", String(days));
    })
    .catch(function () {
      if (current !== request) return;
      setStatus(gettext("The reports could not be loaded. Check the connection and try again."), "error");
    })
    .then(function () {
      if (current === request) root.removeAttribute("aria-busy");
    });
}

function initialDays() {
  const asked = Number(new URLSearchParams(window.location.search).get("days"));
  return boot.ranges.indexOf(asked) >= 0 ? asked : boot.defaultDays;
}

loadCatalog(boot.i18n || { catalog: {} }, boot.language || "en");

(function start() {
  rangeButtons.forEach(function (button) {
    button.addEventListener("click", function () { load(Number(button.getAttribute("data-days"))); });
  });
  if (typeof Chart === "undefined") {
    setStatus(gettext("The chart library did not load."), "error");
    return;
  }
  makeCharts();
  load(initialDays());
})();
