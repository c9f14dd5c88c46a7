"""The dashboard's track, records and #1 calendar pages, served by the real command in a
child process and rendered by headless Chromium, over real chart exports:

* the bundled window (localdev/data/chart-exports-2024-05.zip: May 2024 of the Argentina
  and Global daily Top 200s with streams, three weekly Global files) and three markets
  made from it by shifting dates (SHIFTED: made up, labelled so; two have gaps), loaded
  through the import Lambda's records, curated Parquet, the pipes' COPY and the MERGE
  (localdev.local_snowflake.exports);
* what the endpoints answer is checked against the views they read (track_market_grid,
  track_spread, chart_records, chart_number_ones) and against the truth computed from the
  CSV files alone (benchmarks/truth/intelligence.py), which the views are tested against;
* what the pages show (cells, sentences, days) against the same.

Screenshots are saved in the tests' output folders; with SPOTIFY_CHARTS_SCREENSHOTS=DIR they
are copied to DIR/dashboard-track.png, dashboard-records.png, dashboard-calendar.png. (The
pictures in docs/ show a year of real charts: benchmarks/bench_dashboard_pages.py --pictures.)
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import urllib.error
import urllib.request
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from benchmarks.shifted_markets import ShiftedMarket, write_shifted
from benchmarks.truth.intelligence import intelligence_of_files
from localdev.local_snowflake.exports import export_files, load_exports
from localdev.process import ManagedProcess, free_port, http_ready
from snowflake.charts import connection
from tests.snowflake.builders import query
from tests.spotify_charts import browser
from tests.spotify_charts.conftest import CLI, child_environ

pytestmark = pytest.mark.browser  # headless Chromium renders the pages

BUNDLE = Path(__file__).resolve().parents[2] / "localdev" / "data" / "chart-exports-2024-05.zip"
AR, GLOBAL, WEEKLY = "regional-ar-daily", "regional-global-daily", "regional-global-weekly"
SHIFTED = [  # made-up markets (ISO user-assigned codes): a grid of several markets, and gaps
    ShiftedMarket("regional-xa-daily", AR, 3, skip=(date(2024, 5, 10), date(2024, 5, 20))),
    ShiftedMarket("regional-xb-daily", GLOBAL, -2),
    ShiftedMarket("regional-xc-daily", AR, -1, skip=tuple(date(2024, 5, d) for d in range(1, 6))),
]
# A made-up chart of one day whose #1 has a name written to be run as HTML (and a bidi
# override); the pages must show it as text.
HOSTILE_CHART, HOSTILE_TRACK = "regional-xh-daily", "HostileName0000000000a"
HOSTILE_NAME = '<img src=x onerror="alert(1)"></title><script>alert(2)</script>\u202eevil'
HOSTILE_ARTISTS = "<b>Not bold</b> &amp; co"
SHOTS = {"track": "dashboard-track.png", "records": "dashboard-records.png", "calendar": "dashboard-calendar.png"}


def write_hostile_chart(folder: Path) -> Path:
    """Argentina's chart of 2024-05-01 as HOSTILE_CHART, its #1 renamed and given its own id."""
    [(_, data)] = [(n, d) for n, d in export_files(BUNDLE) if n == f"{AR}-2024-05-01.csv"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    rows[1][header.index("uri")] = f"spotify:track:{HOSTILE_TRACK}"
    rows[1][header.index("track_name")] = HOSTILE_NAME
    rows[1][header.index("artist_names")] = HOSTILE_ARTISTS
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    folder.mkdir(parents=True)
    path = folder / f"{HOSTILE_CHART}-2024-05-01.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def served(engine_environ, tmp_path_factory):
    """The exports in a fresh database and the dashboard command serving it."""
    work = tmp_path_factory.mktemp("pages")
    shifted = write_shifted(SHIFTED, [BUNDLE], work / "shifted")
    paths = (BUNDLE, work / "shifted", write_hostile_chart(work / "hostile"))
    db = connection.connect()
    try:
        assert load_exports(db, paths, work / "stage") == 200 * (31 + 31 + 3) + 200 * len(shifted) + 200
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        with ManagedProcess([*CLI, "dashboard", "--port", str(port)], ready=http_ready(url + "api/charts"),
                            name="dashboard", env=child_environ(), log_path=work / "dashboard.log", start_timeout=60):
            yield {"url": url, "db": db, "truth": intelligence_of_files(*paths)}
    finally:
        db.close()


def get(served, path: str) -> dict:
    with urllib.request.urlopen(served["url"] + path, timeout=60) as response:
        return json.loads(response.read())


def status_of(served, path: str) -> int:
    try:
        urllib.request.urlopen(served["url"] + path, timeout=60)
    except urllib.error.HTTPError as error:
        assert "error" in json.loads(error.read())
        return error.code
    return 200


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def widest_track(db) -> str:
    """The track on the most charts in the data (then the highest on them)."""
    return query(db, """SELECT track_id FROM track_market_grid GROUP BY track_id
                        ORDER BY COUNT(DISTINCT playlist_id) DESC, AVG(position), track_id LIMIT 1""")[0][0]


# -- the endpoints against the views and the truth ------------------------------------------

def test_the_track_grid_holds_the_view_s_cells_and_the_truth_s(served):
    db, truth = served["db"], served["truth"]
    track = widest_track(db)
    grid = get(served, f"api/track-grid?track={track}")
    cells = query(db, "SELECT playlist_id, chart_date, position, streams FROM track_market_grid WHERE track_id = %s",
                  track)
    first, last = min(c[1] for c in cells), max(c[1] for c in cells)
    assert (grid["from"], grid["to"]) == (first.isoformat(), last.isoformat())  # by default the track's whole span
    assert {(c["playlist_id"], d, p, s) for c in grid["charts"]
            for d, p, s in zip(c["dates"], c["positions"], c["streams"])} == {
        (chart, day.isoformat(), position, streams) for chart, day, position, streams in cells}
    expected = {(chart, day.isoformat(), *value) for (t, chart, day), value in truth.grid.items() if t == track}
    assert {(c["playlist_id"], d, p, s) for c in grid["charts"]
            for d, p, s in zip(c["dates"], c["positions"], c["streams"])} == expected
    assert len(grid["charts"]) >= 6  # both real daily markets, three shifted ones, the weekly chart
    for chart in grid["charts"]:  # every edition of the period, held or not by the track
        editions = query(db, """SELECT chart_date FROM chart_editions WHERE grain = 'day' AND playlist_id = %s
                                AND chart_date BETWEEN %s AND %s ORDER BY chart_date""",
                         chart["playlist_id"], first, last)
        assert chart["chart_dates"] == [day.isoformat() for (day,) in editions]
        assert chart["best_position"] == min(chart["positions"]) and chart["on_chart"] == len(chart["dates"])
    firsts = [(c["first_date"], c["best_position"]) for c in grid["charts"]]
    assert firsts == sorted(firsts)  # where the track charted first, on top
    spread = truth.spread[track]
    assert grid["spread"] == {"first_chart_date": iso(spread.first_chart_date), "first_charts": list(spread.first_charts),
                              "charts_total": spread.charts_total, "max_charts": spread.max_charts,
                              "max_charts_date": iso(spread.max_charts_date)}
    [(name,)] = query(db, "SELECT DISTINCT track_name FROM chart_entries WHERE track_id = %s", track)
    assert grid["name"] == name


def test_the_track_grid_s_period_is_bounded(served):
    track = widest_track(served["db"])
    grid = get(served, f"api/track-grid?track={track}&from=2024-05-10&to=2024-05-12")
    assert {d for c in grid["charts"] for d in c["dates"] + c["chart_dates"]} <= {"2024-05-10", "2024-05-11",
                                                                                     "2024-05-12"}
    assert grid["available"]["first_date"] < "2024-05-10" and grid["charts"]
    assert status_of(served, f"api/track-grid?track={track}&from=2023-05-01&to=2024-05-01") == 400  # 367 days
    assert status_of(served, f"api/track-grid?track={track}&from=2023-05-02&to=2024-05-01") == 200  # 366
    assert status_of(served, "api/track-grid?track=" + "0" * 22) == 404  # a Spotify id no chart holds
    assert status_of(served, "api/track-grid?track=nope") == 400


def test_the_records_are_the_view_s_and_the_truth_s(served):
    db, truth = served["db"], served["truth"]
    for chart in (AR, GLOBAL, WEEKLY, "regional-xa-daily"):
        records = get(served, f"api/records?chart={chart}")
        got = {(r["record"], r["track_id"], r["value"], r["from"], r["to"]) for r in records["records"]}
        view = query(db, "SELECT record, track_id, value, from_date, to_date FROM chart_records WHERE chart_label = %s",
                     chart)
        assert got == {(r, t, v, iso(f), iso(e)) for r, t, v, f, e in view}
        assert got == {(r.record, r.track_id, r.value, iso(r.from_date), iso(r.to_date)) for r in truth.records
                       if r.chart_label == chart}
        assert len(records["records"]) == len(view) >= 6
        order = [r["record"] for r in records["records"]]
        assert order == sorted(order, key=["longest_run_at_number_one", "most_days_at_number_one",
                                           "most_days_in_top_10", "biggest_debut", "biggest_climb",
                                           "most_streams_in_a_day", "most_streams_total"].index)
    assert status_of(served, "api/records?chart=nope") == 404


def test_the_number_ones_are_the_view_s_and_the_truth_s(served):
    db, truth = served["db"], served["truth"]
    for chart in (AR, GLOBAL, WEEKLY, "regional-xa-daily"):
        ones = get(served, f"api/number-ones?chart={chart}")
        days = [(d["date"], d["track_id"], d["streams"]) for d in ones["days"]]
        view = query(db, """SELECT chart_date, track_id, streams FROM chart_number_ones WHERE chart_label = %s
                            ORDER BY chart_date""", chart)
        assert days == [(day.isoformat(), track, streams) for day, track, streams in view]
        assert days == sorted((day.isoformat(), *value) for (c, day), value in truth.number_ones.items() if c == chart)
        assert (ones["from"], ones["to"]) == (days[0][0], days[-1][0])  # the data is under a year: all of it
        counts = {t["track_id"]: t["editions"] for t in ones["tracks"]}
        assert counts == {track: sum(1 for _, t, _ in days if t == track) for _, track, _ in days}
        assert [t["first_date"] for t in ones["tracks"]] == sorted(t["first_date"] for t in ones["tracks"])
    may = get(served, f"api/number-ones?chart={AR}&from=2024-05-10&to=2024-05-20")
    assert [d["date"] for d in may["days"]] == [f"2024-05-{day}" for day in range(10, 21)]
    assert status_of(served, f"api/number-ones?chart={AR}&from=2024-05-20&to=2024-05-10") == 400
    assert status_of(served, "api/number-ones?chart=nope") == 404


# -- the pages in headless Chromium -------------------------------------------------------

class Texts(HTMLParser):
    """Every element of a document: its tag, attributes and whole text."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "circle", "line", "path", "rect", "source"}

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict, list[str]]] = []
        self._open: list[tuple[str, dict, list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = (tag, dict(attrs), [])
        self.found.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_data(self, data):
        for _, _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag):
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def all(self, tag: str, **attrs: str) -> list[tuple[dict, str]]:
        """(attributes, text) of the elements with this tag whose attributes hold these values
        (``class_`` for class; a class matches one of the element's classes)."""
        def matches(found: dict) -> bool:
            for key, want in attrs.items():
                name = key.rstrip("_").replace("_", "-")
                value = found.get(name)
                if value is None or (want not in value.split() if name == "class" else value != want):
                    return False
            return True
        return [(a, "".join(text)) for t, a, text in self.found if t == tag and matches(a)]


def rendered(served, path: str, tmp_path: Path, shot: str | None = None, height: int = 1500) -> Texts:
    page = browser.render(served["url"] + path, tmp_path)
    refused = [m for m in page.console
               if "Content Security Policy" in m or "requires 'Trusted" in m or m.startswith("Uncaught")]
    assert not refused, page.console
    dom = Texts(page.dom)
    assert dom.all("body")[0][0]["data-ready"] == "true"
    if shot:
        picture = tmp_path / SHOTS[shot]
        assert browser.screenshot(served["url"] + path, picture, tmp_path, window=(1440, height)) == (1440, height)
        assert picture.stat().st_size > 40_000  # a rendered page, not a blank one
        if os.environ.get("SPOTIFY_CHARTS_SCREENSHOTS"):
            shutil.copyfile(picture, Path(os.environ["SPOTIFY_CHARTS_SCREENSHOTS"]) / SHOTS[shot])
    return dom


def test_the_track_page_draws_each_cell_of_the_grid(served, tmp_path):
    track = widest_track(served["db"])
    grid = get(served, f"api/track-grid?track={track}")
    dom = rendered(served, f"track?track={track}", tmp_path, shot="track", height=1130)
    assert [a["data-chart"] for a, _ in dom.all("g", class_="grid-row")] == [c["label"] for c in grid["charts"]]
    cells = {(a["data-date"], int(a["data-position"])) for a, _ in dom.all("g", class_="cell")}
    assert len(dom.all("g", class_="cell")) == sum(len(c["dates"]) for c in grid["charts"])
    assert cells == {(d, p) for c in grid["charts"] for d, p in zip(c["dates"], c["positions"])}
    # Titles say where, when, which position and how many streams.
    chart = grid["charts"][0]
    titles = {text for _, text in dom.all("title")}
    assert f"{chart['label']} {chart['dates'][0]}: #{chart['positions'][0]}, {chart['streams'][0]:,} streams" in titles
    # A line of streams per daily chart that states them; the weekly chart is left out, and said so.
    daily = [c["label"] for c in grid["charts"] if c["cadence"] == "daily"]
    assert [a["data-chart"] for a, _ in dom.all("g", class_="stream-line")] == daily
    [(_, streams_note)] = dom.all("p", id="streams-sub")
    assert f"so {WEEKLY} is left out" in streams_note
    rows = dom.all("tr", **{"data-chart": chart["label"]})
    assert rows and f"{chart['total_streams']:,}" in rows[0][1]
    [(_, name)] = dom.all("h2", id="track-name")
    assert name == grid["name"]
    [(_, spread)] = dom.all("p", id="track-spread")
    assert spread.startswith(f"Over the daily country charts: first on {', '.join(grid['spread']['first_charts'])} on "
                             f"{grid['spread']['first_chart_date']}; on {grid['spread']['charts_total']} country charts")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# How the records page words each record: (title, value in words, the dates it names).
RECORD_WORDS = {
    "longest_run_at_number_one": ("Longest run at #1", lambda v: plural(v, "edition"), "range"),
    "most_days_at_number_one": ("Most editions at #1", lambda v: plural(v, "edition"), None),
    "most_days_in_top_10": ("Most editions in the top 10", lambda v: plural(v, "edition"), None),
    "biggest_debut": ("Biggest debut", lambda v: f"#{v}", "day"),
    "biggest_climb": ("Biggest climb", lambda v: f"up {plural(v, 'place')}", "day"),
    "most_streams_in_a_day": ("Most streams in a day", lambda v: f"{v:,} streams", "day"),
    "most_streams_total": ("Most streams in all", lambda v: f"{v:,} streams", None),
}


def record_sentence(record: str, name: str, artists: list[str], value: int, first: date | None,
                    last: date | None) -> str:
    """'Longest run at #1: X — Y, 12 editions, 2024-01-03 .. 2024-01-14', from a view row."""
    title, words, dates = RECORD_WORDS[record]
    when = f", {first} .. {last}" if dates == "range" else f", {first}" if dates == "day" else ""
    return f"{title}: {name} — {', '.join(artists)}, {words(value)}{when}"


def test_the_records_page_says_each_record_in_words(served, tmp_path):
    dom = rendered(served, f"records?chart={GLOBAL}", tmp_path, shot="records", height=640)
    view = query(served["db"], """
        SELECT r.record, e.track_name, e.artist_names, r.value, r.from_date, r.to_date
        FROM chart_records AS r
        JOIN (SELECT DISTINCT track_id, track_name, artist_names FROM chart_entries WHERE playlist_id = %s) AS e
          ON e.track_id = r.track_id
        WHERE r.chart_label = %s""", GLOBAL, GLOBAL)
    expected = sorted(record_sentence(record, name, json.loads(artists), value, first, last)
                      for record, name, artists, value, first, last in view)
    cards = [a["data-record"] for a, _ in dom.all("article", class_="record")]
    assert [title for _, title in dom.all("h3")] == [RECORD_WORDS[card][0] for card in cards]
    shown = [f"{RECORD_WORDS[a['data-record']][0]}: {text}" for a, text in dom.all("li", class_="holder")]
    assert sorted(shown) == expected and len(shown) == len(view) >= 7
    [longest] = [text for a, text in dom.all("li", class_="holder") if a["data-record"] == "longest_run_at_number_one"]
    assert " editions, 2024-05-" in longest and " .. 2024-05-" in longest  # "12 editions, 2024-05-03 .. 2024-05-14"
    links = {a["href"] for a, _ in dom.all("a", class_="track-link")}
    assert {f"/track?track={a['data-track']}" for a, _ in dom.all("li", class_="holder")} == links
    assert {a["href"] for a, _ in dom.all("a") if "data-chart-page" in a} == {f"/?chart={GLOBAL}",
                                                                             f"/calendar?chart={GLOBAL}"}


def test_the_calendar_shows_each_day_s_number_one(served, tmp_path):
    ones = get(served, f"api/number-ones?chart={GLOBAL}")
    dom = rendered(served, f"calendar?chart={GLOBAL}", tmp_path, shot="calendar", height=760)
    days = {a["data-date"]: a["data-track"] for a, _ in dom.all("a", class_="day")}
    assert days == {d["date"]: d["track_id"] for d in ones["days"]} and len(days) == 31
    names = {t["track_id"]: t for t in ones["tracks"]}
    first = ones["days"][0]
    titles = {text for _, text in dom.all("title")}
    track = names[first["track_id"]]
    assert f"{first['date']}: #1 {track['name']} — {', '.join(track['artists'])}, {first['streams']:,} streams" in titles
    assert [a["data-track"] for a, _ in dom.all("li") if "data-track" in a] == [t["track_id"] for t in ones["tracks"]]
    assert {a["href"] for a, _ in dom.all("a", class_="day")} == {f"/track?track={t}" for t in days.values()}


def test_the_calendar_leaves_a_day_without_a_chart_blank(served, tmp_path):
    dom = rendered(served, "calendar?chart=regional-xa-daily", tmp_path)
    blank = {a["data-date"] for a, _ in dom.all("g", class_="no-number-one")}
    assert blank == {"2024-05-13", "2024-05-23"}  # the source dates left out, shifted 3 days
    assert len(dom.all("a", class_="day")) == 31 - 2


def test_a_weekly_chart_s_number_one_holds_its_week(served, tmp_path):
    dom = rendered(served, f"calendar?chart={WEEKLY}", tmp_path)
    ones = get(served, f"api/number-ones?chart={WEEKLY}")
    days = {a["data-date"]: a["data-track"] for a, _ in dom.all("a", class_="day")}
    assert days == {(date.fromisoformat(d["date"]) - timedelta(days=back)).isoformat(): d["track_id"]
                    for d in ones["days"] for back in range(7)}  # Friday to Thursday


def test_the_front_page_links_to_the_new_pages(served, tmp_path):
    dom = rendered(served, f"?chart={GLOBAL}", tmp_path)
    chart = get(served, f"api/chart?chart={GLOBAL}")
    links = [a["href"] for a, _ in dom.all("a", class_="track-link")]
    assert links == [f"/track?track={r['track_id']}" for r in chart["rows"]] and len(links) == 200
    assert {a["href"] for a, _ in dom.all("a") if "data-chart-page" in a} == {f"/records?chart={GLOBAL}",
                                                                             f"/calendar?chart={GLOBAL}"}
    [(followed, _)] = dom.all("a", id="track-page")
    assert followed["href"] == f"/track?track={chart['rows'][0]['track_id']}"  # the #1, followed by default


def test_names_written_as_html_show_as_text(served, tmp_path):
    """A name is data: each page shows it as text, creates no element from it, runs nothing."""
    for path in (f"track?track={HOSTILE_TRACK}", f"records?chart={HOSTILE_CHART}", f"calendar?chart={HOSTILE_CHART}"):
        dom = rendered(served, path, tmp_path)  # no Content-Security-Policy or Trusted Types refusal, no error
        assert not dom.all("img") and not dom.all("b"), path
        assert len(dom.all("script")) == 2, path  # common.js and the page's own
        texts = "".join(text for _, text in dom.all("main"))
        assert HOSTILE_NAME in texts and HOSTILE_ARTISTS in texts, path
    dom = rendered(served, f"track?track={HOSTILE_TRACK}", tmp_path)
    assert [text for _, text in dom.all("h2", id="track-name")] == [HOSTILE_NAME]
