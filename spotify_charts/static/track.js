// The track page (track.html): one track on every chart holding it, from /api/track-grid.
// A heat grid (a row per chart, a column per day: the darker, the higher), its streams
// over time, and a table per chart. Helpers (el, getJSON, ...) are common.js'.
"use strict";
const query = new URLSearchParams(location.search);
const trackView = { track: query.get("track") || "", from: query.get("from") || "", to: query.get("to") || "" };
const DAY_MS = 86400000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function dayNumber(iso) {
  return Date.parse(iso + "T00:00:00Z") / DAY_MS;
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

// Position -> colour: #1 dark green, #200 pale, on a log scale (the top matters most);
// the text on a cell is white where the colour is dark.
function positionShade(position) {
  const t = Math.min(1, Math.log(position) / Math.log(200));
  return { fill: `hsl(142, ${Math.round(76 - 34 * t)}%, ${Math.round(20 + 66 * t)}%)`, dark: t < 0.5 };
}

function gridGeometry(data) {
  const first = dayNumber(data.from), days = dayNumber(data.to) - first + 1;
  const width = 1360, left = 200, right = 12, top = 38, rowHeight = 30;
  const cell = (width - left - right) / days;
  return { first, days, width, left, top, rowHeight, cell, height: top + data.charts.length * rowHeight + 6,
           x: day => left + (day - first) * cell };
}

// Month names, and day numbers where the days are wide enough to read.
function gridAxis(geo) {
  const marks = [];
  for (let day = geo.first; day < geo.first + geo.days; day++) {
    const date = new Date(day * DAY_MS);
    // The period's first day is named too, unless a month begins too close after it.
    const roomy = day !== geo.first || new Date((day + Math.ceil(70 / geo.cell)) * DAY_MS).getUTCMonth() === date.getUTCMonth();
    if ((date.getUTCDate() === 1 || day === geo.first) && roomy) {
      marks.push(el("svg:text", { class: "axis month", x: geo.x(day) + 2, y: 12 },
                    `${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`));
      marks.push(el("svg:line", { class: "month-rule", x1: geo.x(day), x2: geo.x(day), y1: 16, y2: geo.height }));
    }
    if (geo.cell >= 16 || (geo.cell >= 5 && date.getUTCDate() % 7 === 1)) {
      marks.push(el("svg:text", { class: "axis", x: geo.x(day) + geo.cell / 2, y: 30, "text-anchor": "middle" },
                    date.getUTCDate()));
    }
  }
  return marks;
}

// One chart's row: the days it holds no chart stay hatched; each edition is a cell (a
// weekly chart's spans its week, Friday to Thursday), coloured by the track's position
// there, or grey where the track was off that chart.
function gridRow(chart, index, geo, color) {
  const y = geo.top + index * geo.rowHeight;
  const span = chart.cadence === "weekly" ? 7 : 1;
  const on = new Map(chart.dates.map((d, i) => [d, i]));
  const row = el("svg:g", { class: "grid-row", "data-chart": chart.label });
  row.append(el("svg:rect", { class: "no-chart", fill: "url(#hatch)", x: geo.left, y, width: geo.days * geo.cell,
                              height: geo.rowHeight - 4 }));
  for (const date of chart.chart_dates) {
    const start = Math.max(dayNumber(date) - span + 1, geo.first);
    const x = geo.x(start), width = (dayNumber(date) + 1 - start) * geo.cell;
    const i = on.get(date);
    if (i === undefined) {
      row.append(el("svg:rect", { class: "off-chart", x, y, width, height: geo.rowHeight - 4 },
                    el("svg:title", {}, `${chart.label} ${date}: not on the chart`)));
      continue;
    }
    row.append(gridCell(chart, i, { x, y, width, height: geo.rowHeight - 4 }));
  }
  const label = el("svg:a", { href: pageHref("/", { chart: chart.label, track: trackView.track }) },
                   el("svg:text", { class: "row-label", x: geo.left - 10, y: y + geo.rowHeight / 2 + 2,
                                    "text-anchor": "end" }, chart.label));
  row.append(el("svg:circle", { cx: 8, cy: y + geo.rowHeight / 2 - 2, r: 5, fill: color }), label);
  return row;
}

function gridCell(chart, i, box) {
  const position = chart.positions[i], shade = positionShade(position);
  const streams = chart.streams[i] === null ? "" : `, ${streamsText(chart.streams[i])} streams`;
  const cell = el("svg:g", { class: "cell", "data-date": chart.dates[i], "data-position": position },
                  el("svg:rect", { ...box, fill: shade.fill },
                     el("svg:title", {}, `${chart.label} ${chart.dates[i]}: #${position}${streams}`)));
  if (String(position).length * 5.6 + 2 <= box.width) {  // the number fits in its cell
    cell.append(el("svg:text", { class: shade.dark ? "cell-text dark" : "cell-text", x: box.x + box.width / 2,
                                 y: box.y + box.height / 2 + 4, "text-anchor": "middle" }, position));
  }
  return cell;
}

function drawGrid(data) {
  const geo = gridGeometry(data);
  const svg = el("svg:svg", { viewBox: `0 0 ${geo.width} ${geo.height}`, role: "img", class: "heat-grid",
                              "aria-label": `Positions of ${data.name} by chart and day, ${data.from} to ${data.to}` });
  svg.append(el("svg:defs", {}, el("svg:pattern", { id: "hatch", width: 6, height: 6,
                                                    patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" },
    el("svg:rect", { width: 6, height: 6, fill: "#fff" }), el("svg:line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch" }))));
  svg.append(...gridAxis(geo));
  data.charts.forEach((chart, index) => svg.append(gridRow(chart, index, geo, nthColor(index))));
  return svg;
}

function gridLegend() {
  const swatch = (cls, fill) => el("svg:svg", { viewBox: "0 0 14 14", class: "swatch" },
                                   el("svg:rect", { width: 14, height: 14, class: cls, fill }));
  return el("p", { class: "legend" },
    ...[1, 5, 10, 25, 50, 100, 200].map(p => el("span", {}, swatch(null, positionShade(p).fill), `#${p}`)),
    el("span", {}, swatch("off-chart"), "off the chart"),
    el("span", {}, swatch("no-chart legend-hatch"), "no chart that day"));
}

// Streams per day on each daily chart that states them: a row per chart under the grid's
// days, each on its own scale (a market's streams can be a hundredth of another's). A
// weekly chart counts a week's streams, so it is left out (and said so).
function streamSeries(data) {
  return data.charts.map((chart, index) => ({ chart, color: nthColor(index) }))
    .filter(s => s.chart.cadence === "daily" && s.chart.streams.some(v => v !== null));
}

// Runs of consecutive days with streams: the line breaks where the track was off the chart.
function streamRuns(chart) {
  const runs = [];
  chart.dates.forEach((iso, i) => {
    const v = chart.streams[i];
    if (v === null) return;
    const last = runs.length ? runs[runs.length - 1] : null;
    const joined = last && dayNumber(iso) - dayNumber(last[last.length - 1].iso) === 1;
    if (joined) last.push({ iso, v, i }); else runs.push([{ iso, v, i }]);
  });
  return runs;
}

function streamRow({ chart, color }, k, geo, dots) {
  const rowHeight = 64, top = 8 + k * (rowHeight + 14), base = top + rowHeight;
  const high = Math.max(1, ...chart.streams.filter(v => v !== null));
  const x = iso => geo.x(dayNumber(iso)) + geo.cell / 2, y = v => base - v * (rowHeight - 6) / high;
  const row = el("svg:g", { class: "stream-line", "data-chart": chart.label },
    el("svg:line", { class: "grid", x1: geo.left, x2: geo.width - 12, y1: base, y2: base }),
    el("svg:circle", { cx: 8, cy: top + rowHeight / 2, r: 5, fill: color }),
    el("svg:text", { class: "row-label", x: geo.left - 10, y: top + rowHeight / 2 + 2, "text-anchor": "end" }, chart.label),
    el("svg:text", { class: "axis", x: geo.left - 10, y: top + rowHeight / 2 + 17, "text-anchor": "end" },
       `up to ${STREAMS_SHORT.format(high)} a day`));
  for (const run of streamRuns(chart)) {
    const line = run.map((p, j) => `${j ? "L" : "M"}${x(p.iso).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    const area = `${line} L${x(run[run.length - 1].iso).toFixed(1)},${base} L${x(run[0].iso).toFixed(1)},${base} Z`;
    row.append(el("svg:path", { class: "stream-area", d: area, fill: color }),
               el("svg:path", { class: "stream-path", d: line, stroke: color }));
    if (!dots) continue;
    for (const p of run) {
      row.append(el("svg:circle", { cx: x(p.iso), cy: y(p.v), r: 2.2, fill: color },
        el("svg:title", {}, `${chart.label} ${p.iso}: ${streamsText(p.v)} streams (#${chart.positions[p.i]})`)));
    }
  }
  return row;
}

function drawStreams(data, series) {
  const geo = gridGeometry(data);
  const svg = el("svg:svg", { viewBox: `0 0 ${geo.width} ${8 + series.length * 78}`, role: "img",
                              class: "streams-lines", "aria-label": `Streams of ${data.name} per day` });
  const dots = series.reduce((n, s) => n + s.chart.dates.length, 0) <= 1500;
  series.forEach((s, k) => svg.append(streamRow(s, k, geo, dots)));
  return svg;
}

function renderStreams(data) {
  const series = streamSeries(data), plot = document.getElementById("streams-plot");
  const weekly = data.charts.filter(c => c.cadence === "weekly" && c.streams.some(v => v !== null));
  const note = weekly.length ? ` Weekly charts count a week's streams, so ${weekly.map(c => c.label).join(", ")} ` +
                               "is left out here (its table row has them)." : "";
  document.getElementById("streams-sub").textContent = (series.length
    ? "Streams per day on each daily chart that states them, each on its own scale, under the grid's days; " +
      "the line breaks where the track was off the chart."
    : "No daily chart of this track in the period states streams.") + note;
  plot.replaceChildren(...(series.length ? [drawStreams(data, series)] : []));
}

function renderTable(data) {
  const table = document.getElementById("charts-table");
  const head = ["Chart", "First in period", "Best", "On the chart", "Streams"];
  table.querySelector("thead").replaceChildren(el("tr", {}, ...head.map((h, i) => el("th", { class: i > 1 ? "num" : null }, h))));
  table.querySelector("tbody").replaceChildren(...data.charts.map((c, index) => el("tr", { "data-chart": c.label },
    el("td", {}, el("svg:svg", { viewBox: "0 0 10 10", class: "dot-swatch" }, el("svg:circle", { cx: 5, cy: 5, r: 5, fill: nthColor(index) })),
       " ", el("a", { href: pageHref("/", { chart: c.label, track: data.track_id }) }, c.label),
       el("span", { class: "muted" }, c.name && c.name !== c.label ? ` ${c.name}` : "")),
    el("td", {}, c.first_date), el("td", { class: "num" }, `#${c.best_position}`),
    el("td", { class: "num" }, plural(c.on_chart, c.cadence === "weekly" ? "week" : "day")),
    el("td", { class: "num" }, streamsText(c.total_streams)))));
}

function spreadText(spread) {
  if (!spread) return "On no daily country chart.";
  return `Over the daily country charts: first on ${spread.first_charts.join(", ")} on ${spread.first_chart_date}; ` +
         `on ${plural(spread.charts_total, "country chart")} in all, at most ${spread.max_charts} on one day ` +
         `(first on ${spread.max_charts_date}).`;
}

function renderTitle(data) {
  document.title = `${data.name} · Spotify charts monitor`;
  document.getElementById("track-name").textContent = data.name;
  document.getElementById("track-artists").textContent = data.artists.join(", ");
  const best = Math.min(...data.charts.map(c => c.best_position));
  const bestOn = data.charts.filter(c => c.best_position === best).map(c => c.label);
  document.getElementById("track-summary").textContent = data.charts.length
    ? `On ${plural(data.charts.length, "chart")} from ${data.from} to ${data.to}, best #${best} (${bestOn.join(", ")}). ` +
      `On charts from ${data.available.first_date} to ${data.available.last_date} in all.`
    : `On no chart from ${data.from} to ${data.to} (on charts from ${data.available.first_date} to ` +
      `${data.available.last_date}).`;
  document.getElementById("track-spread").textContent = spreadText(data.spread);
}

async function loadTrackPage() {
  try {
    const data = await getJSON("/api/track-grid", trackView);
    renderTitle(data);
    document.getElementById("from").value = data.from;
    document.getElementById("to").value = data.to;
    document.getElementById("grid-sub").textContent = "Each row a chart, each column a day, ordered by where the " +
      "track charted first. Hover a cell for the position and streams; a chart's name opens it on the dashboard.";
    document.getElementById("grid-plot").replaceChildren(drawGrid(data), gridLegend());
    renderStreams(data);
    renderTable(data);
  } catch (error) {
    document.getElementById("track-summary").textContent = "";
    showError(document.getElementById("grid-plot"), error);
  }
}

function bindPeriod() {
  const apply = () => {
    trackView.from = document.getElementById("from").value;
    trackView.to = document.getElementById("to").value;
    history.replaceState(null, "", pageHref("/track", trackView));
    loadTrackPage();
  };
  for (const id of ["from", "to"]) document.getElementById(id).addEventListener("change", apply);
}

async function start() {
  bindPeriod();
  await loadTrackPage();
  document.body.dataset.ready = "true";
}
start();
