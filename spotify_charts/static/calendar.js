// The #1 calendar (calendar.html): a chart's #1 of every edition from /api/number-ones, a
// month per block, each day coloured by its #1 (the legend names them); hover a day for
// its #1 and streams, click it for the track's page. Helpers (el, getJSON, ...) are common.js'.
"use strict";
const calendarQuery = new URLSearchParams(location.search);
const calendarView = { chart: calendarQuery.get("chart") || "", from: calendarQuery.get("from") || "",
                       to: calendarQuery.get("to") || "" };
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
                     "October", "November", "December"];
const WEEKDAYS = ["M", "T", "W", "T", "F", "S", "S"];
const CELL = { width: 44, height: 36, gap: 3, top: 44 };
// The #1s' colours: dark enough for white day numbers, each with its family; a track never
// gets a colour of the same family as a track at #1 just before or after it.
const NUMBER_ONE_COLORS = [
  ["#2563eb", "blue"], ["#dc2626", "red"], ["#16a34a", "green"], ["#9333ea", "purple"], ["#ea580c", "orange"],
  ["#0891b2", "cyan"], ["#db2777", "pink"], ["#ca8a04", "yellow"], ["#475569", "grey"], ["#92400e", "brown"],
  ["#4338ca", "blue"], ["#65a30d", "green"], ["#0f766e", "cyan"], ["#c026d3", "purple"], ["#9f1239", "red"],
  ["#c2410c", "orange"], ["#0284c7", "blue"], ["#166534", "green"], ["#6d28d9", "purple"], ["#be123c", "pink"],
];

function utcDate(iso) {
  return new Date(iso + "T00:00:00Z");
}

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

// Every calendar day's #1: a weekly chart's #1 holds each day of its week (Friday to
// Thursday, the file dated by the Thursday).
function daysAtNumberOne(data) {
  const span = data.cadence === "weekly" ? 7 : 1;
  const byDay = new Map();
  for (const day of data.days) {
    for (let back = span - 1; back >= 0; back--) {
      const date = utcDate(day.date);
      date.setUTCDate(date.getUTCDate() - back);
      byDay.set(isoDay(date), day);
    }
  }
  return byDay;
}

function dayTitle(day, track, cadence) {
  const when = cadence === "weekly" ? `week to ${day.date}` : day.date;
  const streams = day.streams === null ? "" : `, ${streamsText(day.streams)} streams`;
  return `${when}: #1 ${track.name} — ${track.artists.join(", ")}${streams}`;
}

function dayCell(iso, x, y, entry) {
  const box = { x, y, width: CELL.width, height: CELL.height, rx: 4 };
  const label = el("svg:text", { class: entry ? "day-number on" : "day-number", x: x + 4, y: y + 12 },
                   utcDate(iso).getUTCDate());
  if (!entry) {
    return el("svg:g", { class: "day no-number-one", "data-date": iso }, el("svg:rect", { ...box, class: "empty-day" },
              el("svg:title", {}, `${iso}: no chart`)), label);
  }
  return el("svg:a", { href: pageHref("/track", { track: entry.track.track_id }), class: "day", "data-date": iso,
                       "data-track": entry.track.track_id },
            el("svg:rect", { ...box, fill: entry.color }, el("svg:title", {}, entry.title)), label);
}

// One month: a title, the weekdays (Monday first), a cell per day of the period.
function monthBlock(year, month, data, byDay, colors) {
  const days = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const offset = (new Date(Date.UTC(year, month, 1)).getUTCDay() + 6) % 7;  // Monday = 0
  const rows = Math.ceil((offset + days) / 7);
  const width = 7 * (CELL.width + CELL.gap), height = CELL.top + rows * (CELL.height + CELL.gap);
  const svg = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, class: "month", role: "img",
                              "aria-label": `${MONTH_NAMES[month]} ${year}`, "data-month": `${year}-${month + 1}` },
                 el("svg:text", { class: "month-title", x: 2, y: 16 }, `${MONTH_NAMES[month]} ${year}`),
                 ...WEEKDAYS.map((w, i) => el("svg:text", { class: "axis", x: i * (CELL.width + CELL.gap) + CELL.width / 2,
                                                            y: 36, "text-anchor": "middle" }, w)));
  for (let d = 1; d <= days; d++) {
    const iso = isoDay(new Date(Date.UTC(year, month, d)));
    const day = byDay.get(iso);
    if ((iso < data.from || iso > data.to) && !day) continue;  // a weekly #1's week may begin before the period
    const slot = offset + d - 1;
    const entry = day && { track: colors.get(day.track_id).track, color: colors.get(day.track_id).color,
                           title: dayTitle(day, colors.get(day.track_id).track, data.cadence) };
    svg.append(dayCell(iso, (slot % 7) * (CELL.width + CELL.gap), CELL.top + Math.floor(slot / 7) * (CELL.height + CELL.gap),
                       entry));
  }
  return svg;
}

function drawMonths(data, colors) {
  const byDay = daysAtNumberOne(data);
  const months = [];
  const last = utcDate(data.to), month = utcDate(data.from);
  month.setUTCDate(1);
  for (; month <= last; month.setUTCMonth(month.getUTCMonth() + 1)) {
    months.push(monthBlock(month.getUTCFullYear(), month.getUTCMonth(), data, byDay, colors));
  }
  return months;
}

function legendItem(entry, cadence) {
  const track = entry.track;
  const unit = cadence === "weekly" ? "week" : "day";
  const streams = track.streams === null ? "" : ` · ${STREAMS_SHORT.format(track.streams)} streams`;
  return el("li", { "data-track": track.track_id },
            el("svg:svg", { viewBox: "0 0 14 14", class: "swatch" }, el("svg:rect", { width: 14, height: 14, rx: 3, fill: entry.color })),
            el("span", { class: "legend-text" }, trackLink(track.track_id, track.name), el("br"),
               el("span", { class: "muted" }, `${track.artists.join(", ")} · ${track.editions} ${unit}${track.editions === 1 ? "" : "s"} at #1` +
                  streams)));
}

// Tracks at #1 right before or after each other (their runs touch): they must look apart.
function neighbours(days) {
  const found = new Map();
  days.forEach((day, i) => {
    const next = days[i + 1];
    if (!next || next.track_id === day.track_id) return;
    for (const [a, b] of [[day.track_id, next.track_id], [next.track_id, day.track_id]]) {
      found.set(a, new Set([...(found.get(a) || []), b]));
    }
  });
  return found;
}

// Each #1 track's colour, in order of its first day at #1: the least used colour whose
// family no neighbour has (palette order breaks ties; a long year reuses colours).
function assignColors(data) {
  const near = neighbours(data.days), used = new Map(), colors = new Map();
  for (const track of data.tracks) {
    const taken = new Set([...(near.get(track.track_id) || [])].filter(id => colors.has(id))
                                                                   .map(id => colors.get(id).family));
    const choices = NUMBER_ONE_COLORS.filter(([, family]) => !taken.has(family));
    const [color, family] = (choices.length ? choices : NUMBER_ONE_COLORS)
      .reduce((best, c) => (used.get(c[0]) || 0) < (used.get(best[0]) || 0) ? c : best);
    used.set(color, (used.get(color) || 0) + 1);
    colors.set(track.track_id, { track, color, family });
  }
  return colors;
}

function renderCalendar(data) {
  const colors = assignColors(data);
  const months = drawMonths(data, colors);
  document.getElementById("months").classList.toggle("few", months.length <= 2);  // larger days
  document.getElementById("months").replaceChildren(...months);
  document.getElementById("number-ones").replaceChildren(...[...colors.values()].map(e => legendItem(e, data.cadence)));
  const kind = data.cadence === "weekly" ? "weekly" : "daily";
  document.getElementById("chart-name").textContent = `#1 calendar: ${data.name}`;
  document.getElementById("chart-sub").textContent =
    `${data.label}: ${data.days.length} ${kind} chart${data.days.length === 1 ? "" : "s"} from ${data.from} to ${data.to}, ` +
    `${data.tracks.length} track${data.tracks.length === 1 ? "" : "s"} at #1 (the chart holds ${data.first_date} .. ` +
    `${data.last_date}). Hover a day for its #1 and streams; click it for the track's page. ` +
    "A blank day has no chart.";
  document.title = `#1 calendar of ${data.label} · Spotify charts monitor`;
}

async function loadCalendar() {
  try {
    const data = await getJSON("/api/number-ones", calendarView);
    document.getElementById("chart").value = data.label;
    document.getElementById("from").value = data.from;
    document.getElementById("to").value = data.to;
    pointChartLinks(data.label);
    renderCalendar(data);
  } catch (error) {
    showError(document.getElementById("months"), error);
  }
}

function bindCalendarControls() {
  const apply = reset => {
    calendarView.chart = document.getElementById("chart").value;
    calendarView.from = reset ? "" : document.getElementById("from").value;
    calendarView.to = reset ? "" : document.getElementById("to").value;
    history.replaceState(null, "", pageHref("/calendar", calendarView));
    loadCalendar();
  };
  document.getElementById("chart").addEventListener("change", () => apply(true));
  for (const id of ["from", "to"]) document.getElementById(id).addEventListener("change", () => apply(false));
}

async function start() {
  try {
    document.getElementById("chart").replaceChildren(...chartOptions((await getJSON("/api/charts")).charts));
  } catch (error) {
    showError(document.getElementById("chart-sub"), error);
  }
  bindCalendarControls();
  await loadCalendar();
  document.body.dataset.ready = "true";
}
start();
