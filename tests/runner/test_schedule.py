import pytest

from orchestrator.runner.schedule import expected_messages, intended_offset, phase_at, timed_phases
from orchestrator.runner.spec import PhaseSpec


def due_within(rate_from, rate_to, duration):
    k = 0
    while intended_offset(k, rate_from, rate_to, duration) is not None:
        k += 1
    return k


def test_steady_rate_spaces_messages_evenly():
    assert [intended_offset(k, 4.0, 4.0, 10.0) for k in range(3)] == [0.0, 0.25, 0.5]


def test_message_after_the_phase_is_not_due():
    assert intended_offset(40, 4.0, 4.0, 10.0) is None


@pytest.mark.parametrize("rate_from,rate_to", [(100.0, 300.0), (300.0, 100.0), (0.0, 200.0), (200.0, 0.0)])
def test_ramp_sends_the_area_under_the_rate_line(rate_from, rate_to):
    assert due_within(rate_from, rate_to, 10.0) == pytest.approx(expected_messages(rate_from, rate_to, 10.0), abs=1)


def test_ramp_gaps_shrink_as_the_rate_rises():
    offsets = [intended_offset(k, 10.0, 1000.0, 10.0) for k in range(0, 5000, 500)]
    gaps = [b - a for a, b in zip(offsets, offsets[1:])]
    assert gaps == sorted(gaps, reverse=True)


def test_ramp_reaches_its_target_rate_at_the_end():
    # the gap between the last two messages is about 1/rate_to
    k = due_within(100.0, 1000.0, 10.0) - 1
    gap = intended_offset(k, 100.0, 1000.0, 10.0) - intended_offset(k - 1, 100.0, 1000.0, 10.0)
    assert gap == pytest.approx(1 / 1000.0, rel=0.01)


def test_phases_follow_each_other_from_start_at():
    phases = timed_phases([PhaseSpec("a", "warmup", 2, 10, 10), PhaseSpec("b", "steady", 3, None, None)], 100.0)
    assert [(tp.start_ns, tp.end_ns) for tp in phases] == [(100 * 10**9, 102 * 10**9), (102 * 10**9, 105 * 10**9)]
    assert phase_at(phases, 102 * 10**9).phase.name == "b"
    assert phase_at(phases, 105 * 10**9) is None


def test_intended_time_is_absolute():
    (tp,) = timed_phases([PhaseSpec("a", "steady", 2, 10, 10)], 100.0)
    assert tp.intended_ns(3) == 100 * 10**9 + 300_000_000


def test_target_rate_interpolates_within_a_ramp():
    (tp,) = timed_phases([PhaseSpec("r", "ramp", 10, 100, 200)], 0.0)
    assert tp.rate_at(5 * 10**9) == pytest.approx(150.0)


def test_unthrottled_phase_has_no_target_rate():
    (tp,) = timed_phases([PhaseSpec("m", "steady", 10, None, None)], 0.0)
    assert (tp.throttled, tp.rate_at(10**9)) == (False, None)
