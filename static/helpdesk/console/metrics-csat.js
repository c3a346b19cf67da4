/* The reports page's customer satisfaction: the CSAT tile, the per-day chart and the
 * by-agent / by-bot table, drawn from the API's `csat` (helpdesk/conversations/csat.py).
 *
 * metrics.js calls makeCsatChart() once Chart.js is there and renderCsat() with each answer.
 * Days are UTC days, as on the page's other charts. Text from the server (agent and bot names)
 * goes in with textContent.
 */
import { formatDate, formatNumber, formatPercent } from "../shared/format.js";
import { gettext, interpolate, ngettext } from "../shared/i18n.js";
import { alpha, cssVar, percent } from "./chart-style.js";

const DAY = { month: "short", day: "numeric", timeZone: "UTC" };
let chart = null;

function average(value) {
  return value === null || value === undefined ? "–" : formatNumber(value, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}

export function makeCsatChart(root) {
  const canvas = root.querySelector('[data-testid="chart-csat"] canvas');
  if (!canvas) return;
  const muted = cssVar("--muted", "#687083");
  const grid = cssVar("--border", "#e4e7ee");
  const good = cssVar("--resolved", "#197a45");
  const brand = cssVar("--brand", "#2f5bea");
  chart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: [],
      datasets: [
        { label: gettext("Ratings"), data: [], backgroundColor: alpha(brand, 0.35), borderRadius: 3, yAxisID: "y", order: 2 },
        {
          label: gettext("CSAT"), data: [], type: "line", yAxisID: "pct", borderColor: good,
          backgroundColor: good, pointRadius: 3, spanGaps: true, order: 1,
        },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: { duration: 250 },
      interaction: { mode: "index", intersect: false },
      plugins: {
        // The legend in the order the datasets are listed (the line is drawn over the bars).
        legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12, sort: function (a, b) { return a.datasetIndex - b.datasetIndex; } } },
        tooltip: {
          callbacks: {
            label: function (item) {
              if (item.dataset.yAxisID === "pct") {
                return interpolate(gettext("CSAT: %(share)s"), { share: item.parsed.y === null ? "–" : formatPercent(item.parsed.y / 100) });
              }
              return interpolate(gettext("Ratings: %(count)s"), { count: formatNumber(item.parsed.y) });
            },
          },
        },
      },
      scales: {
        x: { grid: { display: false }, ticks: { color: muted, maxRotation: 0, autoSkip: true } },
        y: { beginAtZero: true, position: "left", grid: { color: grid }, ticks: { color: muted, precision: 0 } },
        pct: {
          min: 0, max: 100, position: "right", grid: { display: false },
          ticks: { color: muted, callback: function (v) { return formatPercent(v / 100, 0); } },
        },
      },
    },
  });
}

function tile(root, c) {
  const el = root.querySelector('[data-testid="kpi-csat"]');
  if (!el) return;
  el.querySelector('[data-field="value"]').textContent = percent(c.csat);
  el.querySelector('[data-field="note"]').textContent = c.count
    ? interpolate(ngettext("%(count)s rating · average %(average)s / 5", "%(count)s ratings · average %(average)s / 5", c.count), {
      count: formatNumber(c.count), average: average(c.average),
    })
    : gettext("no ratings yet");
}

function table(root, c) {
  const tbody = root.querySelector('[data-testid="csat-by-agent"] tbody');
  if (!tbody) return;
  tbody.textContent = "";
  const rows = c.by_agent.map(function (a) {
    return { who: a.name || interpolate(gettext("Agent #%(id)s"), { id: a.agent_id }), kind: "agent", r: a };
  });
  c.by_bot.forEach(function (b) {
    rows.push({
      who: b.name ? interpolate(gettext("Bot: %(name)s"), { name: b.name }) : gettext("No agent (no bot)"),
      kind: "bot", r: b,
    });
  });
  if (!rows.length) {
    const td = tbody.insertRow().insertCell();
    td.colSpan = 4;
    td.className = "muted";
    td.textContent = gettext("No ratings in this period");
    return;
  }
  rows.forEach(function (row) {
    const tr = tbody.insertRow();
    tr.setAttribute("data-kind", row.kind);
    [row.who, formatNumber(row.r.count), percent(row.r.csat), average(row.r.average)].forEach(function (text) {
      tr.insertCell().textContent = text;
    });
  });
}

export function renderCsat(root, m) {
  const c = m.csat;
  if (!c) return;
  tile(root, c);
  table(root, c);
  const bot = root.querySelector('[data-testid="csat-bot"]');
  if (bot) {
    bot.textContent = c.bot.count
      ? interpolate(gettext("Conversations no agent answered: CSAT %(csat)s of %(count)s ratings."), {
        csat: percent(c.bot.csat), count: formatNumber(c.bot.count),
      })
      : gettext("No ratings of conversations the bot handled alone.");
  }
  if (!chart) return;
  chart.data.labels = c.daily.map(function (d) { return formatDate(d.date + "T00:00:00Z", DAY); });
  chart.data.datasets[0].data = c.daily.map(function (d) { return d.count; });
  chart.data.datasets[1].data = c.daily.map(function (d) { return d.csat === null ? null : Math.round(d.csat * 1000) / 10; });
  chart.update();
  const box = root.querySelector('[data-testid="chart-csat"] .rp-chart');
  let overlay = box.querySelector(".rp-empty");
  if (!c.count && !overlay) {
    overlay = document.createElement("div");
    overlay.className = "rp-empty";
    box.appendChild(overlay);
  }
  if (overlay) {
    overlay.hidden = !!c.count;
    overlay.textContent = gettext("No ratings in this period");
  }
}
