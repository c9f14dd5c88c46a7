// The dashboard's script (dashboard.html); served as a file, so the page's
// Content-Security-Policy allows no inline script. Builds every element with DOM
// methods (no HTML strings), which Trusted Types enforce.
"use strict";
const REFRESH_MS = 10000;
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f",
                "#7c3aed", "#b45309", "#0f766e", "#e11d48", "#1e40af", "#a16207", "#15803d"];
const SVG_NS = "http://www.w3.org/2000/svg";
const params = new URLSearchParams(location.search);
const view = { chart: params.get("chart") || "", from: params.get("from") || "", to: params.get("to") || "",
               top: params.get("top") || "10" };

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith("svg:") ? document.createElementNS(SVG_NS, tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function getJSON(path, query = {}) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString();
  const response = await fetch(path + (q ? "?" + q : ""));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function showError(container, error) {
  container.replaceChildren(el("p", { class: "error" }, error.message));
}

function moveCell(row) {
  if (row.status === "NEW" || row.status === "RE-ENTRY") {
    return el("span", { class: "badge " + row.status.toLowerCase() }, row.status);
  }
  if (row.change === null || row.change === undefined) return "";
  if (row.change > 0) return el("span", { class: "up" }, "▲" + row.change);
  if (row.change < 0) return el("span", { class: "down" }, "▼" + (-row.change));
  return el("span", { class: "same" }, "=");
}

async function loadCharts() {
  const select = document.getElementById("chart");
  const { charts } = await getJSON("/api/charts");
  select.replaceChildren(...charts.map(c => el("option", { value: c.label }, c.name ? `${c.label} — ${c.name}` : c.label)));
  if (!view.chart && charts.length) view.chart = charts[0].label;
  select.value = view.chart;
}

async function loadChart() {
  const body = document.querySelector("#chart-table tbody");
  const sub = document.getElementById("current-sub");
  try {
    const chart = await getJSON("/api/chart", { chart: view.chart });
    const compared = chart.compared_with ? `, compared with ${chart.compared_with}` : "";
    const shown = chart.view === "daily chart" ? `daily chart of ${chart.chart_date}${compared}`
                                               : `latest snapshot, read ${chart.observed_at}`;
    sub.textContent = `${chart.name} · ${shown} · from ${chart.source}` +
                      (chart.note ? ` (${chart.note})` : "");
    body.replaceChildren(...chart.rows.map(r => el("tr", { "data-position": r.position },
      el("td", { class: "num" }, r.position), el("td", {}, moveCell(r)),
      el("td", { title: r.track }, r.track), el("td", { title: r.artists.join(", ") }, r.artists.join(", ")),
      el("td", { class: "num" }, r.peak ?? ""), el("td", { class: "num" }, r.days ?? ""))));
  } catch (error) {
    sub.textContent = "";
    body.replaceChildren(el("tr", {}, el("td", { colspan: 6, class: "error" }, error.message)));
  }
}

function drawBump(data) {
  const width = 700, left = 30, right = 170, top = 16, bottom = 34;
  const rows = data.top, height = Math.max(260, rows * 26 + top + bottom);
  const n = data.dates.length;
  const x = i => left + (n > 1 ? i * (width - left - right) / (n - 1) : (width - left - right) / 2);
  const y = p => top + (rows > 1 ? (p - 1) * (height - top - bottom) / (rows - 1) : 0);
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
                              "aria-label": `Rank over time, top ${rows}, ${data.from} to ${data.to}` });
  for (let p = 1; p <= rows; p++) {
    svg.append(el("svg:line", { class: "grid", x1: left, x2: width - right, y1: y(p), y2: y(p) }));
    svg.append(el("svg:text", { class: "axis", x: left - 8, y: y(p) + 4, "text-anchor": "end" }, p));
  }
  const every = Math.max(1, Math.ceil(n / 8));
  data.dates.forEach((d, i) => {
    if (i % every === 0 || i === n - 1) {
      svg.append(el("svg:text", { class: "axis", x: x(i), y: height - 10, "text-anchor": "middle" }, d.slice(5)));
    }
  });
  data.tracks.forEach((track, k) => {
    const color = COLORS[k % COLORS.length];
    let d = "", pen = false;
    const group = el("svg:g", { "data-track": track.track_id });
    track.positions.forEach((p, i) => {
      if (p !== null && p <= rows) {
        d += `${pen ? "L" : "M"}${x(i).toFixed(1)},${y(p).toFixed(1)} `;
        pen = true;
        group.append(el("svg:circle", { cx: x(i), cy: y(p), r: 3.2, fill: color },
                        el("svg:title", {}, `${track.name}: #${p} on ${data.dates[i]}`)));
      } else {
        pen = false;  // off the chart (or below the top shown): the line breaks
      }
    });
    const path = el("svg:path", { class: "bump-line", d: d.trim(), stroke: color },
                    el("svg:title", {}, `${track.name} — ${track.artists.join(", ")}`));
    group.prepend(path);
    const last = track.positions[n - 1];
    if (last !== null && last <= rows) {
      group.append(el("svg:text", { class: "track-label", x: x(n - 1) + 8, y: y(last) + 4, fill: color },
                      track.name.length > 28 ? track.name.slice(0, 27) + "…" : track.name));
    }
    svg.append(group);
  });
  return svg;
}

async function loadBump() {
  const plot = document.getElementById("bump-plot");
  const sub = document.getElementById("bump-sub");
  try {
    const data = await getJSON("/api/bump", { chart: view.chart, from: view.from, to: view.to, top: view.top });
    sub.textContent = `${data.name}: daily charts, tracks that reached the top ${data.top} between ${data.from} ` +
                      `and ${data.to} (${data.dates.length} daily charts; days without a chart are gaps; data ` +
                      `from ${data.available.first_date} to ${data.available.last_date})`;
    document.getElementById("from").value = data.from;
    document.getElementById("to").value = data.to;
    plot.replaceChildren(drawBump(data));
  } catch (error) {
    sub.textContent = "";
    showError(plot, error);
  }
}

function movementBadge(m) {
  if (m.kind === "new_number_one") return el("span", { class: "badge no1" }, "NEW #1");
  if (m.kind === "new_entries") return el("span", { class: "badge new" }, "NEW");
  if (m.kind === "exits") return el("span", { class: "badge exit" }, "EXIT");
  return m.change > 0 ? el("span", { class: "up" }, "▲" + m.change) : el("span", { class: "down" }, "▼" + (-m.change));
}

async function loadMovements() {
  const list = document.querySelector("#movements ol");
  try {
    const { movements } = await getJSON("/api/movements", { limit: 40 });
    if (!movements.length) { list.replaceChildren(el("li", {}, "No movements yet.")); return; }
    list.replaceChildren(...movements.map(m => el("li", { class: "movement", "data-kind": m.kind },
      el("span", { class: "when", title: m.detected_at }, (m.detected_at || "").slice(5, 19).replace("T", " ")),
      el("span", { class: "chart" }, m.chart_label),
      el("span", {}, movementBadge(m), " ", m.position ? `#${m.position}` : ""),
      el("span", {}, `${m.name} — ${(m.artists || []).join(", ")}`,
         m.previous_position ? el("span", { class: "same" }, ` (was #${m.previous_position})`) : null))));
  } catch (error) {
    showError(list, error);
  }
}

const CHECK_TITLES = { last_poll: "Last poll", polling: "Polling", last_glue_run: "Last Glue run",
                       pending_load: "Files pending load", quarantine: "Quarantined rows" };

// Adaptive polling: each chart's learned flip time and its reads today.
function pollingList(check) {
  const charts = (check.details && check.details.charts) || [];
  if (!charts.length) return null;
  return el("ul", { class: "polling" }, ...charts.map(c => el("li", { "data-chart": c.chart },
    el("span", { class: "chart" }, c.chart),
    el("span", {}, c.flip_time ? `flips ~${c.flip_time} UTC` : "learning"),
    el("span", { class: "num" }, `${c.reads_today} reads today`))));
}

async function loadHealth() {
  const section = document.getElementById("health");
  try {
    const { checks } = await getJSON("/api/health");
    section.replaceChildren(...Object.entries(CHECK_TITLES).map(([name, title]) => {
      const check = checks[name] || { status: "unknown", summary: "not reported" };
      return el("div", { class: `panel check ${check.status}`, "data-check": name, "data-status": check.status },
                el("h3", {}, el("span", { class: "dot" }), title), el("p", {}, check.summary),
                name === "polling" ? pollingList(check) : null);
    }));
  } catch (error) {
    showError(section, error);
  }
}

async function refresh(all) {
  const loads = [loadChart(), loadMovements(), loadHealth()];
  if (all) loads.push(loadBump());
  await Promise.all(loads);
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

function bindControls() {
  const apply = () => {
    view.chart = document.getElementById("chart").value;
    view.from = document.getElementById("from").value;
    view.to = document.getElementById("to").value;
    view.top = document.getElementById("top").value;
    history.replaceState(null, "", "?" + new URLSearchParams(view).toString());
    refresh(true);
  };
  document.getElementById("chart").addEventListener("change", () => {
    document.getElementById("from").value = ""; document.getElementById("to").value = ""; apply();
  });
  for (const id of ["from", "to", "top"]) document.getElementById(id).addEventListener("change", apply);
}

async function start() {
  document.getElementById("top").value = view.top;
  try { await loadCharts(); } catch (error) { showError(document.getElementById("current-sub"), error); }
  bindControls();
  await refresh(true);
  document.body.dataset.ready = "true";
  setInterval(() => refresh(false), REFRESH_MS);
}
start();
