from datetime import datetime
from pathlib import Path

import pytest

from orchestrator.collect.diagnostics import Diagnostics
from orchestrator.collect.iostat import parse_time, read_iostat

FIXTURES = Path(__file__).parent.parent / "fixtures" / "collect"


def _read(name: str):
    diag = Diagnostics(FIXTURES)
    return list(read_iostat(FIXTURES / name, diag)), diag.lines()


def _local(text: str, fmt: str) -> int:
    return int(datetime.strptime(text, fmt).timestamp())


def test_json_samples_read_with_combined_await():
    samples, warnings = _read("iostat.json")
    assert [s.ts for s in samples] == [1795596814, 1795596815]
    first = samples[0]
    assert (first.device, first.r_per_s, first.w_per_s, first.wkb_per_s, first.aqu_sz, first.util) == ("vda", 1.0, 44.0, 76076.0, 0.62, 6.0)
    assert first.await_ms == pytest.approx((3.0 * 1 + 13.93 * 44) / 45)
    assert warnings == []


def test_truncated_json_keeps_complete_entries():
    samples, warnings = _read("iostat-truncated.json")
    assert [s.ts for s in samples] == [1795596814]
    assert len(warnings) == 1 and "iostat-truncated.json" in warnings[0] and "incomplete" in warnings[0]


def test_sysstat10_text_with_12_hour_times_and_await_column():
    samples, warnings = _read("iostat-sysstat10.txt")
    assert [(s.device, s.ts) for s in samples] == [
        ("sda", _local("11/25/2026 14:03:04", "%m/%d/%Y %H:%M:%S")), ("sdb", _local("11/25/2026 14:03:04", "%m/%d/%Y %H:%M:%S")),
        ("sda", _local("11/25/2026 14:03:05", "%m/%d/%Y %H:%M:%S")), ("sdb", _local("11/25/2026 14:03:05", "%m/%d/%Y %H:%M:%S")),
    ]
    sdb = samples[1]
    assert (sdb.w_per_s, sdb.wkb_per_s, sdb.await_ms, sdb.aqu_sz, sdb.util) == (10.0, 400.0, 5.0, 0.5, 1.0)
    assert warnings == []


def test_sysstat11_text_with_decimal_commas_and_day_first_dates():
    samples, warnings = _read("iostat-sysstat11-de.txt")
    assert [s.ts for s in samples] == [_local("25.11.2026 14:03:04", "%d.%m.%Y %H:%M:%S"), _local("25.11.2026 14:03:05", "%d.%m.%Y %H:%M:%S")]
    first = samples[0]
    assert (first.r_per_s, first.w_per_s, first.rkb_per_s, first.wkb_per_s, first.aqu_sz, first.util) == (1.0, 3.0, 4.0, 12.0, 0.01, 0.1)
    assert first.await_ms == pytest.approx((2.0 * 1 + 4.0 * 3) / 4)
    assert warnings == []


def test_sysstat12_text_columns_found_by_header_and_bad_row_counted():
    samples, warnings = _read("iostat-sysstat12.txt")
    assert [(s.w_per_s, s.wkb_per_s, s.util) for s in samples] == [(18.0, 112.0, 0.6), (20.0, 144.0, 1.2)]
    assert warnings == ["iostat-sysstat12.txt: 1 malformed iostat rows skipped (first at line 10)"]


def test_unknown_format_is_a_warning_not_a_crash():
    samples, warnings = _read("iostat-unknown.txt")
    assert samples == []
    assert any("unknown iostat format" in w for w in warnings)


def test_missing_file_is_a_warning():
    samples, warnings = _read("no-such-iostat.json")
    assert samples == [] and "cannot read" in warnings[0]


@pytest.mark.parametrize("text, expected", [
    ("2026-11-25T08:53:34+0000", 1795596814),
    ("2026-11-25T09:53:34+0100", 1795596814),
])
def test_iso_times_with_zone(text, expected):
    assert parse_time(text) == expected


def test_json_without_iso_times_combines_the_host_date_and_bare_times():
    samples, warnings = _read("iostat-local-time.json")
    assert [s.ts for s in samples] == [_local("2026-11-25 14:03:04", "%Y-%m-%d %H:%M:%S"), _local("2026-11-25 14:03:05", "%Y-%m-%d %H:%M:%S")]
    assert warnings == []
