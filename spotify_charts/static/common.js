// What every page of the dashboard shares (loaded before the page's own script): building
// elements with DOM methods (never HTML strings, which Trusted Types refuse), the JSON
// endpoints, number formats, colours, the chart picker and links between the pages.
"use strict";
const SVG_NS = "http://www.w3.org/2000/svg";
const COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f",
                "#7c3aed", "#b45309", "#0f766e", "#e11d48", "#1e40af", "#a16207", "#15803d"];
const STREAMS = new Intl.NumberFormat("en-US");  // 1,234,567
const STREAMS_SHORT = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });  // 1.2M

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
  const response = await fetch(pageHref(path, query));
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function showError(container, error) {
  container.replaceChildren(el("p", { class: "error" }, error.message));
}

function streamsText(n) {
  return n === null || n === undefined ? "" : STREAMS.format(n);
}

// The n-th colour of a set: the palette first, then hues a golden angle apart (a year of
// #1s can hold more tracks than the palette has colours).
function nthColor(n) {
  return n < COLORS.length ? COLORS[n] : `hsl(${Math.round((n * 137.508) % 360)}, 62%, 44%)`;
}

// An address with the query's non-empty values: a page's (a track's page, a chart's
// records and #1 calendar) or an endpoint's.
function pageHref(path, query) {
  const q = new URLSearchParams(Object.entries(query).filter(([, v]) => v)).toString();
  return path + (q ? "?" + q : "");
}

// Whether a track has a page: a Spotify id (a playlist's local file has none).
function isTrackId(trackId) {
  return /^[0-9A-Za-z]{22}$/.test(trackId || "");
}

// A track's name, linked to its page when it has one.
function trackLink(trackId, text, attrs = {}) {
  if (!isTrackId(trackId)) return text;
  return el("a", { href: pageHref("/track", { track: trackId }), class: "track-link", ...attrs }, text);
}

// The chart picker's options: every chart, grouped by origin and cadence (playlists,
// imported daily and weekly exports), each option marked with both.
function chartOptions(charts) {
  const groups = new Map();
  for (const c of charts) groups.set(c.group, [...(groups.get(c.group) || []), c]);
  return [...groups].map(([title, items]) => el("optgroup", { label: title },
    ...items.map(c => el("option", { value: c.label, "data-origin": c.origin, "data-cadence": c.cadence },
                         c.name && c.name !== c.label ? `${c.label} — ${c.name}` : c.label))));
}

// The links to a chart's own pages (records, #1 calendar) follow the chosen chart.
function pointChartLinks(chart) {
  for (const link of document.querySelectorAll("a[data-chart-page]")) {
    link.setAttribute("href", pageHref(link.dataset.chartPage, { chart }));
  }
}
