from orchestrator.collect.diagnostics import ClockWatch, Diagnostics


def test_counts_name_the_file_relative_to_the_run_and_the_first_line(tmp_path):
    diag = Diagnostics(tmp_path)
    path = tmp_path / "raw" / "jmeter" / "w" / "kpi.jtl"
    diag.count(path, "malformed lines skipped", 1041)
    diag.count(path, "malformed lines skipped", 2000, n=2)
    diag.note(tmp_path / "raw" / "events.jsonl", "missing")
    assert diag.lines() == ["raw/events.jsonl: missing", "raw/jmeter/w/kpi.jtl: 3 malformed lines skipped (first at line 1041)"]


def test_clock_watch_warns_on_gaps_and_backward_jumps_only(tmp_path):
    diag = Diagnostics(tmp_path)
    watch = ClockWatch(diag, tmp_path / "s.jsonl", step=5.0)
    for line, ts in enumerate((100, 105, 111, 140, 120), start=1):
        watch.see(ts, line)
    assert diag.lines() == ["s.jsonl:4: clock gap of 29 s (no samples between epoch 111 and 140)",
                            "s.jsonl:5: clock went back 20 s (epoch 140 to 120)"]
