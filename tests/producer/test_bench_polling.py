"""``make bench-polling`` on a short replay: its figures come from real reads that agree
with the server's flips, and its last line has the issue's shape."""
import re

import pytest

from benchmarks import bench_polling

pytestmark = pytest.mark.spotify_server  # the benchmark starts the server as a child process

LAST_LINE = re.compile(r"polling: adaptive (\d+\.\d) reads/chart/day vs fixed (\d+\.\d), detection median (\d+) s, "
                       r"p95 (\d+) s, missed (\d+) of (\d+)")


def test_a_short_replay_detects_every_flip_and_ends_with_the_summary_line(capsys):
    status = bench_polling.main(["--days", "4", "--charts", "2", "--off-hour-rate", "0"])
    lines = capsys.readouterr().out.strip().splitlines()
    adaptive, fixed, median, p95, missed, flips = LAST_LINE.fullmatch(lines[-1]).groups()
    assert float(fixed) == 96.0 and int(missed) == 0 and int(flips) == 8
    [fixed_row] = [line for line in lines if line.strip().startswith("fixed:")]
    fixed_median = int(re.search(r"detection median +(\d+) s", fixed_row).group(1))
    assert float(adaptive) < float(fixed) and int(median) < fixed_median
    assert all(" 0 reads unlike the truth" in line for line in lines if "reads/chart/day, detection" in line)
    # Four days, one of them with no history and one chart moving its hour: mostly learning.
    assert status == (0 if float(adaptive) <= float(fixed) / 4 and int(median) <= 60 else 1)
