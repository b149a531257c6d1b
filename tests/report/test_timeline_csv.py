from __future__ import annotations

import csv

from orchestrator.collect.timeline import SeriesKey, Timeline
from orchestrator.report.timeline_csv import write_timeline_csv


def test_wide_csv_with_one_column_per_series_and_empty_gaps(tmp_path):
    tl = Timeline(start=100, length=3)
    tl.series[SeriesKey("produce.rate", workload="w")] = [1.0, None, 3.5]
    tl.series[SeriesKey("disk.util", host="h", device="sda")] = [None, 50.0, 1e-7]
    tl.series[SeriesKey("jmeter.rate", workload="j", label="a,b")] = [1.0, 2.0, 3.0]
    path = tmp_path / "results" / "timeline.csv"
    write_timeline_csv(tl, path)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["ts", "disk.util[host=h,device=sda]", "jmeter.rate[workload=j,label=a,b]", "produce.rate[workload=w]"]
    assert rows[1:] == [["100", "", "1", "1"], ["101", "50", "2", ""], ["102", "1e-07", "3", "3.5"]]
