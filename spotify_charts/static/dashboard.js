// The dashboard's script (dashboard.html); served as a file, so the page's
// Content-Security-Policy allows no inline script. Builds every element with DOM
// methods (no HTML strings), which Trusted Types enforce.
"use strict";
// Shared helpers (el, getJSON, showError, streamsText, colours, the picker's options and
// the links to the other pages) are in common.js, loaded first.
const REFRESH_MS = 10000;
const params = new URLSearchParams(location.search);
const view = { chart: params.get("chart") || "", from: params.get("from") || "", to: params.get("to") || "",
               top: params.get("top") || "10", track: params.get("track") || "" };

function moveCell(row) {
  if (row.status === "NEW" || row.status === "RE-ENTRY") {
    return el("span", { class: "badge " + row.status.toLowerCase() }, row.status);
  }
  if (row.change === null || row.change === undefined) return "";
  if (row.change > 0) return el("span", { class: "up" }, "▲" + row.change);
  if (row.change < 0) return el("span", { class: "down" }, "▼" + (-row.change));
  return el("span", { class: "same" }, "=");
}

// The picker: every chart, grouped by origin and cadence; the header's links to the
// chosen chart's records and #1 calendar follow it.
async function loadCharts() {
  const select = document.getElementById("chart");
  const { charts, default: preferred } = await getJSON("/api/charts");
  select.replaceChildren(...chartOptions(charts));
  if (!view.chart && charts.length) view.chart = preferred || charts[0].label;
  select.value = view.chart;
  pointChartLinks(view.chart);
}

// The current chart's columns; the streams column only for a chart that states streams.
function chartColumns(chart) {
  const editions = chart.cadence === "weekly" ? "Weeks" : "Days";  // editions on the chart
  return [
    { title: "#", col: "pos", num: true, cell: r => r.position },
    { title: "Move", col: "move", cell: r => moveCell(r) },
    { title: "Track", col: "track", tip: r => r.track, cell: r => trackLink(r.track_id, r.track) },
    { title: "Artists", col: "artists", tip: r => r.artists.join(", "), cell: r => r.artists.join(", ") },
    chart.has_streams ? { title: "Streams", col: "streams", num: true, cell: r => streamsText(r.streams) } : null,
    { title: "Peak", col: "num", num: true, cell: r => r.peak ?? "" },
    { title: editions, col: "num", num: true, cell: r => r.days ?? "" },
  ].filter(Boolean);
}

function chartSummary(chart) {
  const origin = chart.origin === "chart_export" ? "imported chart export · " : "";
  const week = chart.week ? ` (week ${chart.week[0]}..${chart.week[1]})` : "";
  const compared = chart.compared_with ? `, compared with ${chart.compared_with}` : "";
  const shown = chart.source === "snowflake" ? `${chart.cadence} chart of ${chart.chart_date}${week}${compared}`
                                             : `latest snapshot, read ${chart.observed_at}`;
  return `${chart.name} (${chart.label}) · ${origin}${shown} · ${chart.rows.length} positions · ` +
         `from ${chart.source}` + (chart.note ? ` (${chart.note})` : "");
}

function renderChartTable(chart) {
  const table = document.getElementById("chart-table");
  const columns = chartColumns(chart);
  table.querySelector("colgroup").replaceChildren(...columns.map(c => el("col", { class: c.col })));
  table.querySelector("thead").replaceChildren(el("tr", {}, ...columns.map(c =>
    el("th", { class: [c.col, c.num ? "num" : ""].join(" ").trim() }, c.title))));
  table.querySelector("tbody").replaceChildren(...chart.rows.map(r => el("tr", {
      "data-position": r.position, "data-track": r.track_id,
      class: r.track_id && r.track_id === view.track ? "selected" : null },
    ...columns.map(c => el("td", { class: [c.col, c.num ? "num" : ""].join(" ").trim(), title: c.tip ? c.tip(r) : null },
                           c.cell(r))))));
}

async function loadChart() {
  const sub = document.getElementById("current-sub");
  try {
    const chart = await getJSON("/api/chart", { chart: view.chart });
    sub.textContent = chartSummary(chart);
    if (!view.track && chart.rows.length) view.track = chart.rows[0].track_id;  // follow the #1 first
    renderChartTable(chart);
  } catch (error) {
    sub.textContent = "";
    document.querySelector("#chart-table tbody").replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "error" },
                                                                                 error.message)));
  }
}

// Spacing of the bump chart's ranks: roomy for a top 20, tight for a Top 200.
function bumpScale(rows) {
  const gap = rows <= 20 ? 26 : rows <= 50 ? 15 : 7;
  return { gap, tick: rows <= 20 ? 1 : rows <= 50 ? 5 : 10, labels: gap >= 12 };
}

function drawBump(data) {
  const deepest = Math.max(1, ...data.tracks.flatMap(t => t.positions.filter(p => p !== null)));
  const rows = Math.min(data.top, deepest);  // a Top 50 asked for its top 200 shows its 50
  const scale = bumpScale(rows);
  const width = 700, left = 30, right = 170, top = 16, bottom = 34;
  const height = Math.max(260, rows * scale.gap + top + bottom);
  const n = data.dates.length;
  const x = i => left + (n > 1 ? i * (width - left - right) / (n - 1) : (width - left - right) / 2);
  const y = p => top + (rows > 1 ? (p - 1) * (height - top - bottom) / (rows - 1) : 0);
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: scale.labels ? null : "dense",
                              "aria-label": `Rank over time, top ${rows}, ${data.from} to ${data.to}` });
  for (let p = 1; p <= rows; p++) {
    if (p !== 1 && p % scale.tick !== 0) continue;
    svg.append(el("svg:line", { class: "grid", x1: left, x2: width - right, y1: y(p), y2: y(p) }));
    svg.append(el("svg:text", { class: "axis", x: left - 8, y: y(p) + 4, "text-anchor": "end" }, p));
  }
  const every = Math.max(1, Math.ceil(n / 8));
  data.dates.forEach((d, i) => {
    if (i % every === 0 || i === n - 1) {
      svg.append(el("svg:text", { class: "axis", x: x(i), y: height - 10, "text-anchor": "middle" }, d.slice(5)));
    }
  });
  const dots = n * data.tracks.length <= 4000;  // a Top 200 over months: lines only, the page stays light
  const lines = data.tracks.map((track, k) => bumpLine(track, COLORS[k % COLORS.length], data.dates,
                                                      { x, y, rows, dots, labels: scale.labels }));
  // The followed track drawn last, over the others.
  svg.append(...lines.filter(g => !g.classList.contains("selected")), ...lines.filter(g => g.classList.contains("selected")));
  return svg;
}

function bumpLine(track, color, dates, plot) {
  const n = dates.length;
  let d = "", pen = false;
  const group = el("svg:g", { "data-track": track.track_id, class: track.track_id === view.track ? "selected" : null });
  track.positions.forEach((p, i) => {
    if (p !== null && p <= plot.rows) {
      d += `${pen ? "L" : "M"}${plot.x(i).toFixed(1)},${plot.y(p).toFixed(1)} `;
      pen = true;
      if (plot.dots) {
        group.append(el("svg:circle", { cx: plot.x(i), cy: plot.y(p), r: 3.2, fill: color },
                        el("svg:title", {}, `${track.name}: #${p} on ${dates[i]}`)));
      }
    } else {
      pen = false;  // off the chart (or below the top shown): the line breaks
    }
  });
  group.prepend(el("svg:path", { class: "bump-line", d: d.trim(), stroke: color },
                   el("svg:title", {}, `${track.name} — ${track.artists.join(", ")}`)));
  const last = track.positions[n - 1];
  // Too tight to name every line (a Top 200): only the followed track is named.
  if (last !== null && last <= plot.rows && (plot.labels || track.track_id === view.track)) {
    group.append(el("svg:text", { class: "track-label", x: plot.x(n - 1) + 8, y: plot.y(last) + 4, fill: color },
                    track.name.length > 28 ? track.name.slice(0, 27) + "…" : track.name));
  }
  return group;
}

let shownBump = null;  // drawn again, not fetched again, when another track is followed

async function loadBump() {
  const plot = document.getElementById("bump-plot");
  const sub = document.getElementById("bump-sub");
  try {
    const data = shownBump = await getJSON("/api/bump", { chart: view.chart, from: view.from, to: view.to,
                                                          top: view.top });
    sub.textContent = `${data.name}: ${data.cadence} charts, tracks that reached the top ${data.top} between ` +
                      `${data.from} and ${data.to} (${data.dates.length} ${data.cadence} charts; dates without a ` +
                      `chart are gaps; data from ${data.available.first_date} to ${data.available.last_date}). ` +
                      "Click a line to follow its track.";
    document.getElementById("from").value = data.from;
    document.getElementById("to").value = data.to;
    plot.replaceChildren(drawBump(data));
  } catch (error) {
    shownBump = null;
    sub.textContent = "";
    showError(plot, error);
  }
}

// One series over time (a track's streams, or its position: lower is better), dated on a
// true time axis; the line breaks where the track was off the chart for more than the
// chart's cadence.
function drawSeries(dates, values, options) {
  const width = 700, height = options.height, left = 58, right = 16, top = 14, bottom = 26;
  const days = dates.map(d => Date.parse(d + "T00:00:00Z") / 86400000);
  const known = values.filter(v => v !== null);
  let low = Math.min(...known), high = Math.max(...known);
  const flat = low === high;
  if (flat) {  // one value (or one chart): an axis around it
    const pad = options.whole ? 1 : Math.max(1, Math.abs(low) * 0.1);
    high += pad;
    if (!options.whole) low -= pad;
  }
  const ticks = options.whole ? [...new Set([low, Math.round((low + high) / 2), high])]
                              : flat ? [(low + high) / 2] : [low, (low + high) / 2, high];
  const span = Math.max(1, days[days.length - 1] - days[0]);
  const x = i => left + (dates.length > 1 ? (days[i] - days[0]) * (width - left - right) / span : (width - left - right) / 2);
  const y = v => options.invert ? top + (v - low) * (height - top - bottom) / (high - low)
                                : height - bottom - (v - low) * (height - top - bottom) / (high - low);
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: options.cls,
                              "aria-label": options.title });
  for (const v of ticks) {
    svg.append(el("svg:line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }));
    svg.append(el("svg:text", { class: "axis", x: left - 6, y: y(v) + 4, "text-anchor": "end" }, options.format(v)));
  }
  [...new Set([0, dates.length - 1])].forEach(i => svg.append(el("svg:text", { class: "axis", x: x(i),
    y: height - 8, "text-anchor": dates.length === 1 ? "middle" : i ? "end" : "start" }, dates[i])));
  let d = "";
  values.forEach((v, i) => {
    if (v === null) return;
    const joined = i > 0 && values[i - 1] !== null && days[i] - days[i - 1] <= options.cadenceDays;
    d += `${joined ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)} `;
    svg.append(el("svg:circle", { cx: x(i), cy: y(v), r: 2.6 }, el("svg:title", {}, `${dates[i]}: ${options.format(v)}`)));
  });
  svg.prepend(el("svg:path", { class: "series-line", d: d.trim() }));
  svg.prepend(el("svg:text", { class: "series-title", x: left, y: 10 }, options.title));
  return svg;
}

async function loadTrack() {
  const plot = document.getElementById("track-plot");
  const sub = document.getElementById("track-sub");
  if (!view.track) { sub.textContent = "Click a track in the chart or the bump chart."; plot.replaceChildren(); return; }
  try {
    const page = document.getElementById("track-page");
    page.setAttribute("href", pageHref("/track", { track: view.track }));
    page.hidden = !isTrackId(view.track);
    const t = await getJSON("/api/track", { chart: view.chart, track: view.track });
    const cadenceDays = t.cadence === "weekly" ? 7 : 1;
    const best = Math.min(...t.positions);
    const charts = `${t.dates.length} ${t.cadence} chart${t.dates.length === 1 ? "" : "s"}`;
    sub.textContent = `${t.name} — ${t.artists.join(", ")} on ${t.label}: ${charts} ` +
      `(${t.dates[0]} to ${t.dates[t.dates.length - 1]}), best #${best}` +
      (t.has_streams ? `, ${streamsText(t.total_streams)} streams in all` : "; this chart states no streams");
    const position = v => "#" + v;
    plot.replaceChildren(
      t.has_streams ? drawSeries(t.dates, t.streams, { height: 170, cadenceDays, cls: "streams-plot",
                                                       title: "Streams", format: v => STREAMS_SHORT.format(v) })
                    : "",
      drawSeries(t.dates, t.positions, { height: 130, cadenceDays, invert: true, whole: true, cls: "position-plot",
                                         title: "Position", format: position }));
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
  // The bump chart and the track panel after the chart: without a chosen track, they follow its #1.
  const chart = loadChart().then(() => all ? Promise.all([loadBump(), loadTrack()]) : null);
  await Promise.all([chart, loadMovements(), loadHealth()]);
  document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
}

function saveView() {
  history.replaceState(null, "", "?" + new URLSearchParams(Object.entries(view).filter(([, v]) => v)).toString());
}

function selectTrack(trackId) {
  if (!trackId) return;
  view.track = trackId;
  saveView();
  for (const row of document.querySelectorAll("#chart-table tr[data-track]")) {
    row.classList.toggle("selected", row.dataset.track === trackId);
  }
  if (shownBump) document.getElementById("bump-plot").replaceChildren(drawBump(shownBump));
  loadTrack();
}

function bindControls() {
  const apply = () => {
    view.chart = document.getElementById("chart").value;
    view.from = document.getElementById("from").value;
    view.to = document.getElementById("to").value;
    view.top = document.getElementById("top").value;
    saveView();
    pointChartLinks(view.chart);
    refresh(true);
  };
  document.getElementById("chart").addEventListener("change", () => {
    document.getElementById("from").value = ""; document.getElementById("to").value = ""; view.track = ""; apply();
  });
  for (const id of ["from", "to", "top"]) document.getElementById(id).addEventListener("change", apply);
  const pick = event => selectTrack(event.target.closest("[data-track]")?.dataset.track);
  document.querySelector("#chart-table tbody").addEventListener("click", pick);
  document.getElementById("bump-plot").addEventListener("click", pick);
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
