// The records page (records.html): a chart's records from /api/records, a card per record:
// its value large, each holder in words ("Longest run at #1: X — Y, 12 editions,
// 2024-01-03 .. 2024-01-14"). Helpers (el, getJSON, ...) are common.js'.
"use strict";
const recordsQuery = new URLSearchParams(location.search);
const recordsView = { chart: recordsQuery.get("chart") || "" };
const HOLDERS_SHOWN = 5;  // ties beyond these fold under "N more"

// How each record reads: its title, its value in words and as a headline (with a unit),
// and which dates it names (the run's first and last; the one day of a debut, climb or
// streams; none for counts and totals).
function recordWords(cadence) {
  const editions = v => `${v} edition${v === 1 ? "" : "s"}`;
  const streams = v => `${STREAMS.format(v)} streams`;
  const count = { value: editions, headline: String, unit: "editions" };
  const total = { value: streams, headline: v => STREAMS_SHORT.format(v), unit: "streams" };
  return {
    longest_run_at_number_one: { title: "Longest run at #1", ...count, dates: "range" },
    most_days_at_number_one: { title: "Most editions at #1", ...count },
    most_days_in_top_10: { title: "Most editions in the top 10", ...count },
    biggest_debut: { title: "Biggest debut", value: v => `#${v}`, headline: v => `#${v}`, unit: "", dates: "day" },
    biggest_climb: { title: "Biggest climb", value: v => `up ${v} place${v === 1 ? "" : "s"}`, headline: v => `▲${v}`,
                     unit: "places", dates: "day" },
    most_streams_in_a_day: { title: cadence === "weekly" ? "Most streams in a week" : "Most streams in a day",
                             ...total, dates: "day" },
    most_streams_total: { title: "Most streams in all", ...total },
  };
}

// "X — Y, 12 editions, 2024-01-03 .. 2024-01-14": a holder, in the words after the title.
function holderItem(record, holder, words) {
  const dates = words.dates === "range" ? `, ${holder.from} .. ${holder.to}`
              : words.dates === "day" ? `, ${holder.from}` : "";
  return el("li", { class: "holder", "data-record": record, "data-track": holder.track_id },
            trackLink(holder.track_id, holder.name), ` — ${holder.artists.join(", ")}, `,
            el("strong", {}, words.value(holder.value)), dates);
}

function recordCard(record, holders, words) {
  const shown = holders.slice(0, HOLDERS_SHOWN), folded = holders.slice(HOLDERS_SHOWN);
  return el("article", { class: "panel record", "data-record": record },
    el("h3", {}, words.title),
    el("p", { class: "record-value" }, words.headline(holders[0].value), el("span", { class: "unit" }, words.unit),
       holders.length > 1 ? el("span", { class: "ties" }, `${holders.length} holders, tied`) : null),
    el("ul", { class: "holders" }, ...shown.map(h => holderItem(record, h, words))),
    folded.length ? el("details", {}, el("summary", {}, `${folded.length} more`),
                       el("ul", { class: "holders" }, ...folded.map(h => holderItem(record, h, words)))) : null);
}

function renderRecords(data) {
  const words = recordWords(data.cadence);
  const byRecord = new Map();
  for (const r of data.records) byRecord.set(r.record, [...(byRecord.get(r.record) || []), r]);
  document.getElementById("records").replaceChildren(...[...byRecord].map(([record, holders]) =>
    recordCard(record, holders, words[record] || { title: record, value: String, headline: String, unit: "" })));
  if (!byRecord.size) {
    document.getElementById("records").replaceChildren(el("p", { class: "panel" }, "No records: the chart holds no edition."));
  }
}

function renderTitle(data) {
  document.title = `Records of ${data.label} · Spotify charts monitor`;
  document.getElementById("chart-name").textContent = `Records: ${data.name}`;
  const kind = data.cadence === "weekly" ? "weekly" : "daily";
  document.getElementById("chart-sub").textContent =
    `${data.label}: ${data.editions} ${kind} chart${data.editions === 1 ? "" : "s"} held, ${data.first_date} .. ${data.last_date}. ` +
    `An edition is a chart date held: a date without a chart neither breaks a run nor counts. ` +
    (data.records.some(r => r.record.startsWith("most_streams")) ? "" : "This chart states no streams.");
}

async function loadRecords() {
  try {
    const data = await getJSON("/api/records", recordsView);
    recordsView.chart = data.label;
    document.getElementById("chart").value = data.label;
    pointChartLinks(data.label);
    renderTitle(data);
    renderRecords(data);
  } catch (error) {
    showError(document.getElementById("records"), error);
  }
}

async function start() {
  const select = document.getElementById("chart");
  try {
    select.replaceChildren(...chartOptions((await getJSON("/api/charts")).charts));
  } catch (error) {
    showError(document.getElementById("chart-sub"), error);
  }
  select.addEventListener("change", () => {
    recordsView.chart = select.value;
    history.replaceState(null, "", pageHref("/records", recordsView));
    loadRecords();
  });
  await loadRecords();
  document.body.dataset.ready = "true";
}
start();
