// The page: reads the JSON API with the session cookie and draws everything itself (no
// framework, no CDN: the service may run where there is no internet).
//
// Money rule: every amount shown is the API's decimal string, only grouped by thousands as
// text (groupThousands). JS Numbers are used for geometry (the chart's y positions and axis
// ticks), for ordering rows and for the share column, never for a displayed amount.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const NO_SNAPSHOTS = "No snapshots yet: run POST /api/v1/snapshots/run";

// "-1234567.891" -> "-1,234,567.891", on the string; anything not a plain decimal is shown as is.
function groupThousands(text) {
  const s = String(text);
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
  if (!m) return s;
  return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (m[3] || "");
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : String(c));
  return node;
}

function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path) {
  let response;
  try {
    response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch (e) {
    throw new Error(`cannot reach the service (${e.message})`);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    // A non-JSON answer is reported by its status below.
  }
  if (!response.ok) {
    const message = (body && body.error && body.error.message) || response.statusText;
    const error = new Error(`${path}: ${response.status} ${message}`);
    error.status = response.status;
    throw error;
  }
  return body;
}

// Puts `content` in a section and marks its state for people (text) and tests (data-state).
function show(section, state, ...content) {
  const root = document.getElementById(section);
  root.dataset.state = state;
  const body = root.querySelector(".body") || document.getElementById(`${section}-body`);
  body.replaceChildren(...content);
}

function showError(section, error) {
  const text = error.status === 401
    ? "Your session has expired (or the service restarted): reload the page and log in again."
    : `Could not load: ${error.message}`;
  show(section, "error", el("p", { class: "error", "data-error": error.status || "network" }, text));
}

function showEmpty(section, text) {
  show(section, "empty", el("p", { class: "empty" }, text));
}

// Axis ticks at 1, 2 or 5 times a power of ten; Numbers, because ticks are geometry.
function niceTicks(min, max, count) {
  if (min === max) {
    const pad = Math.abs(min) * 0.05 || 1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const ticks = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(v);
  if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
  return { ticks, decimals };
}

function drawChart(days, currency) {
  const W = 1000, H = 320, left = 96, right = 24, top = 28, bottom = 44;
  const times = days.map((d) => Date.parse(`${d.date}T00:00:00Z`));
  // Geometry only: the line's height may use binary floats, the labels never show them.
  const values = days.map((d) => Number(d.total));
  const { ticks, decimals } = niceTicks(Math.min(...values), Math.max(...values), 5);
  const lo = ticks[0], hi = ticks[ticks.length - 1];
  const t0 = times[0], span = times[times.length - 1] - t0;
  const x = (t) => (span === 0 ? (left + W - right) / 2 : left + ((t - t0) / span) * (W - left - right));
  const y = (v) => top + (1 - (v - lo) / (hi - lo)) * (H - top - bottom);

  const chart = svg("svg", {
    id: "networth-chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "data-points": days.length, "data-currency": currency,
    "data-from": days[0].date, "data-to": days[days.length - 1].date,
    "aria-label": `net worth in ${currency}, ${days[0].date} to ${days[days.length - 1].date}`,
  });
  const axis = svg("g", { class: "axis", id: "networth-y-axis" });
  for (const v of ticks) {
    axis.append(svg("line", { x1: left, x2: W - right, y1: y(v), y2: y(v), class: "grid" }));
    axis.append(svg("text", { x: left - 8, y: y(v) + 4, "text-anchor": "end" }, groupThousands(v.toFixed(decimals))));
  }
  axis.append(svg("text", { x: left - 8, y: 12, "text-anchor": "end", class: "unit" }, currency));
  chart.append(axis);

  const xAxis = svg("g", { class: "axis", id: "networth-x-axis" });
  xAxis.append(svg("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: "baseline" }));
  const labels = Math.min(6, days.length);
  const shown = new Set();
  for (let i = 0; i < labels; i++) {
    const index = labels === 1 ? 0 : Math.round((i * (days.length - 1)) / (labels - 1));
    if (shown.has(index)) continue;
    shown.add(index);
    const px = x(times[index]);
    const anchor = labels > 1 && i === 0 ? "start" : labels > 1 && i === labels - 1 ? "end" : "middle";
    xAxis.append(svg("line", { x1: px, x2: px, y1: H - bottom, y2: H - bottom + 5, class: "baseline" }));
    xAxis.append(svg("text", { x: px, y: H - bottom + 20, "text-anchor": anchor, class: "date" }, days[index].date));
  }
  chart.append(xAxis);

  const points = days.map((d, i) => `${x(times[i]).toFixed(1)},${y(values[i]).toFixed(1)}`);
  const line = `M${points.join(" L")}`;
  const baseY = (H - bottom).toFixed(1);
  chart.append(svg("path", {
    class: "area",
    d: `${line} L${x(times[times.length - 1]).toFixed(1)},${baseY} L${x(t0).toFixed(1)},${baseY} Z`,
  }));
  const path = svg("path", { id: "networth-line", class: "line", d: line, "data-points": days.length });
  path.append(svg("title", {}, `${days.length} days`));
  chart.append(path);
  const last = days[days.length - 1];
  const dot = svg("circle", { class: "dot", r: 4, cx: x(times[times.length - 1]), cy: y(values[values.length - 1]) });
  dot.append(svg("title", {}, `${last.date}: ${groupThousands(last.total)} ${currency}`));
  chart.append(dot);
  return chart;
}

// One table of the latest day's amounts by `key` (platform or currency), largest first.
function breakdownTable(id, heading, amounts, total, currency) {
  // Ordering and shares use Numbers; the amount cells show the API's strings.
  const rows = Object.entries(amounts).sort((a, b) => Number(b[1]) - Number(a[1]) || a[0].localeCompare(b[0]));
  const totalNumber = Number(total);
  const tbody = el("tbody", {});
  for (const [key, value] of rows) {
    const share = totalNumber !== 0 ? `${((Number(value) / totalNumber) * 100).toFixed(1)} %` : "";
    tbody.append(el("tr", { "data-key": key, "data-value": value },
      el("th", { scope: "row" }, key),
      el("td", { class: "amount" }, groupThousands(value)),
      el("td", { class: "share" }, share)));
  }
  const foot = el("tfoot", {}, el("tr", { "data-key": "total", "data-value": total },
    el("th", { scope: "row" }, "Total"),
    el("td", { class: "amount" }, groupThousands(total)),
    el("td", { class: "share" }, "")));
  return el("table", { id, "data-rows": rows.length },
    el("thead", {}, el("tr", {}, el("th", {}, heading), el("th", { class: "amount" }, currency), el("th", { class: "share" }, "share"))),
    tbody, foot);
}

// The page's own ?from=&to= are passed on; without them the service picks its default window
// (the last year up to today in the snapshots' time zone, which the browser may not share).
function netWorthPath() {
  const own = new URLSearchParams(window.location.search);
  const query = new URLSearchParams();
  for (const key of ["from", "to"]) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(own.get(key) || "")) query.set(key, own.get(key));
  }
  const text = query.toString();
  return text ? `/api/v1/net-worth?${text}` : "/api/v1/net-worth";
}

async function loadNetWorth() {
  const sections = ["networth", "by-platform", "by-currency"];
  let data;
  try {
    data = await api(netWorthPath());
  } catch (e) {
    sections.forEach((s) => showError(s, e));
    return;
  }
  const currency = data.base_currency || "";
  document.getElementById("networth-currency").textContent = currency ? `(${currency})` : "";
  const days = (data.days || []).slice().sort((a, b) => a.date.localeCompare(b.date));
  if (days.length === 0) {
    sections.forEach((s) => showEmpty(s, NO_SNAPSHOTS));
    return;
  }
  const last = days[days.length - 1];
  const latest = document.getElementById("networth-latest");
  latest.replaceChildren(
    el("span", { id: "networth-total", class: "amount", "data-value": last.total }, `${groupThousands(last.total)} ${currency}`),
    el("span", { class: "muted" }, ` on ${last.date} · ${days.length} day${days.length === 1 ? "" : "s"} since ${days[0].date}`));
  show("networth", "ready", drawChart(days, currency));
  document.querySelectorAll(".latest-date").forEach((n) => { n.textContent = last.date; });
  show("by-platform", "ready", breakdownTable("platform-table", "Platform", last.by_platform || {}, last.total, currency));
  show("by-currency", "ready", breakdownTable("currency-table", "Currency", last.by_currency || {}, last.total, currency));
}

// "2026-12-03T12:46:46.148837322" -> "2026-12-03 12:46:46": the API's times to the second.
function shortTime(text) {
  return text ? String(text).replace("T", " ").replace(/\.\d+/, "") : "";
}

async function loadImports() {
  let data;
  try {
    data = await api("/api/v1/imports?limit=10");
  } catch (e) {
    showError("imports", e);
    return;
  }
  const runs = data.runs || [];
  if (runs.length === 0) {
    showEmpty("imports", "No imports yet: POST a statement file to /api/v1/imports/{ibkr,wise,okx,evm}.");
    return;
  }
  const tbody = el("tbody", {});
  for (const run of runs) {
    tbody.append(el("tr", { "data-id": run.id, "data-status": run.status },
      el("td", {}, run.id), el("td", {}, run.source),
      el("td", { class: "time", title: run.started_at || "" }, shortTime(run.started_at)),
      el("td", { class: "time", title: run.finished_at || "" }, shortTime(run.finished_at) || "—"),
      el("td", { class: `status status-${run.status}` }, run.status),
      el("td", { class: "num" }, run.added), el("td", { class: "num" }, run.updated),
      el("td", { class: "num" }, run.skipped),
      el("td", { class: "sha", title: run.file_sha256 || "" }, (run.file_sha256 || "").slice(0, 12)),
      el("td", { class: "error" }, run.error || "")));
  }
  show("imports", "ready", el("table", { id: "imports-table", "data-rows": runs.length },
    el("thead", {}, el("tr", {}, ...["#", "source", "started", "finished", "status", "added", "updated", "skipped", "file", "error"].map((h) => el("th", {}, h)))),
    tbody));
}

function healthRow(key, label, value, state) {
  return el("tr", { "data-key": key, "data-state": state || "" }, el("th", { scope: "row" }, label), el("td", {}, value));
}

async function loadHealth() {
  let h;
  try {
    h = await api("/health/data");
  } catch (e) {
    showError("health", e);
    return;
  }
  const storage = h.storage || {};
  const migrations = h.migrations || { applied: [], pending: [] };
  const pending = migrations.pending || [];
  const backup = h.last_verified_backup;
  const rows = [
    healthRow("status", "Status", h.status, h.status === "ok" ? "ok" : "warn"),
    healthRow("storage", "Storage",
      `${storage.persistent ? "persistent" : "NOT persistent"} (${storage.backend}): ${storage.reason}`,
      storage.persistent ? "ok" : "warn"),
    healthRow("location", "Location", storage.location || ""),
    healthRow("migrations", "Migrations",
      `${(migrations.applied || []).length} applied, ${pending.length} pending${pending.length ? `: ${pending.join(", ")}` : ""}`,
      pending.length ? "warn" : "ok"),
    healthRow("backup", "Last verified backup",
      backup ? `${backup.id}, verified ${backup.verified_at} (${backup.rows} rows)` : "none verified yet",
      backup ? "ok" : "warn"),
    healthRow("rows", "Rows", `${h.total_rows} in ${Object.keys(h.tables || {}).length} tables`),
  ];
  if (h.instance) rows.push(healthRow("instance", "Instance", `version ${h.instance.version}, started ${h.instance.started_at}`));
  show("health", "ready", el("table", { id: "health-table" }, el("tbody", {}, ...rows)));
}

document.addEventListener("DOMContentLoaded", () => {
  Promise.allSettled([loadNetWorth(), loadImports(), loadHealth()]).then(() => {
    document.body.dataset.loaded = "true";
  });
});
