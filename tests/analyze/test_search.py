"""The capacity search against simulated systems whose knee is known."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from orchestrator.analyze.search import (Conclusion, NextProbe, ProbeResult, SearchSettings, next_probe)

SETTINGS = SearchSettings(start=5000, max_rate=1_000_000, growth=2.0, resolution=0.05, max_probes=25)


@dataclass
class System:
    """Holds the SLOs up to ``knee`` msg/s; the generator sends at most ``generator`` msg/s. Within
    ``noise`` of the knee a probe's verdict is a coin toss (seeded), as on a real machine."""

    knee: float
    generator: float = float("inf")
    noise: float = 0.0
    seed: int = 1
    fail_confirms: int = 0  # the first N confirmations fail anyway (a disturbance during them)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def probe(self, rate: float, role: str) -> ProbeResult:
        achieved = min(rate, self.generator)
        if role == "confirm" and self.fail_confirms:
            self.fail_confirms -= 1
            return ProbeResult(rate, role, False, achieved)
        near = abs(rate - self.knee) <= self.noise * self.knee
        held = self.rng.random() < 0.5 if near else rate <= self.knee
        return ProbeResult(rate, role, held, achieved)


def search(system: System, settings: SearchSettings = SETTINGS) -> tuple[Conclusion, list[ProbeResult]]:
    results: list[ProbeResult] = []
    for _ in range(settings.max_probes + 1):
        step = next_probe(settings, results)
        if isinstance(step, Conclusion):
            return step, results
        results.append(system.probe(step.rate, step.role))
    raise AssertionError("the search did not end within max_probes")


@pytest.mark.parametrize("knee", [777, 5000, 12_345, 38_400, 77_777, 150_000, 999_000])
def test_lands_within_the_resolution_below_the_knee(knee: float) -> None:
    found, results = search(System(knee))
    assert found.reason == "converged"
    assert knee / (1 + SETTINGS.resolution) <= found.capacity <= knee
    assert found.failed <= found.capacity * (1 + SETTINGS.resolution)
    assert results[-1].role == "confirm" and results[-1].rate == found.capacity


@pytest.mark.parametrize("resolution", [0.01, 0.1, 0.25])
def test_a_coarser_resolution_takes_fewer_probes_and_still_lands_within_it(resolution: float) -> None:
    settings = SearchSettings(start=2000, max_rate=500_000, growth=4.0, resolution=resolution, max_probes=30)
    found, results = search(System(41_000), settings)
    assert 41_000 / (1 + resolution) <= found.capacity <= 41_000
    fine, fine_results = search(System(41_000), SearchSettings(2000, 500_000, 4.0, resolution / 4, 30))
    assert len(results) < len(fine_results) and fine.capacity >= found.capacity


def test_with_noise_at_the_knee_it_lands_within_resolution_plus_noise() -> None:
    for seed in range(20):
        found, _ = search(System(60_000, noise=0.02, seed=seed))
        assert found.reason == "converged"
        assert 60_000 * (1 - 0.02) / (1 + SETTINGS.resolution) <= found.capacity <= 60_000 * 1.02


def test_same_outcomes_same_probes() -> None:
    first = search(System(60_000, noise=0.02, seed=7))
    second = search(System(60_000, noise=0.02, seed=7))
    assert first == second
    assert [r.rate for r in first[1]] == [5000, 10000, 20000, 40000, 80000, 56569, 67272, 61689, 59074,
                                          61689, 59074]


def test_the_failure_that_bounds_the_answer_is_probed_twice() -> None:
    _, results = search(System(60_000, noise=0.02, seed=7))
    bound = results[-1].rate * (1 + SETTINGS.resolution)
    failures = [r.rate for r in results if not r.slos_held and r.rate <= bound]
    assert len(failures) == 2 and len(set(failures)) == 1


def test_a_failure_that_does_not_repeat_moves_the_search_up() -> None:
    class Stall(System):
        """A stall fails the first probe at 40,000 msg/s only."""

        def probe(self, rate: float, role: str) -> ProbeResult:
            if rate == 40_000 and not getattr(self, "stalled", False):
                self.stalled = True
                return ProbeResult(rate, role, False, rate)
            return super().probe(rate, role)

    found, results = search(Stall(60_000))
    assert found.reason == "converged" and 60_000 / 1.05 <= found.capacity <= 60_000
    assert [r.slos_held for r in results if r.rate == 40_000] == [False, True]


def test_a_failed_confirmation_is_probed_again_and_the_latest_probe_counts() -> None:
    found, results = search(System(38_400, fail_confirms=1))
    confirms = [r for r in results if r.role == "confirm"]
    assert len(confirms) == 2 and not confirms[0].slos_held and confirms[1].slos_held
    assert [(r.role, r.slos_held) for r in results[-3:]] == [("confirm", False), ("probe", True), ("confirm", True)]
    assert found.reason == "converged" and found.capacity == confirms[0].rate


def test_a_confirmation_that_keeps_failing_narrows_below_it() -> None:
    found, results = search(System(38_400, fail_confirms=2))
    confirms = [r for r in results if r.role == "confirm"]
    assert [c.slos_held for c in confirms] == [False, False, True]
    assert found.reason == "converged" and found.capacity < confirms[0].rate


def test_a_start_rate_that_fails_searches_downwards() -> None:
    found, results = search(System(1300))
    assert [r.rate for r in results[:4]] == [5000, 2500, 1250, 1768]
    assert found.reason == "converged" and 1300 / 1.05 <= found.capacity <= 1300


def test_nothing_holds() -> None:
    found, results = search(System(0.5))
    assert found.reason == "min_rate" and found.capacity is None and results[-1].rate == 1


def test_the_generator_limit_stops_the_search_without_a_capacity() -> None:
    found, results = search(System(knee=100_000, generator=30_000))
    assert found.reason == "generator" and found.capacity is None
    assert found.limit == 40_000 and found.held == 20_000 and found.failed is None
    assert results[-1].generator_behind and results[-1].slos_held


def test_a_generator_behind_its_schedule_is_the_limit_even_at_full_rate() -> None:
    behind = ProbeResult(40_000, "probe", True, 39_900, delay_growth_ms=450.0)
    assert behind.outcome == "generator"
    assert ProbeResult(40_000, "probe", True, 39_900, delay_growth_ms=3.0).outcome == "held"


def test_an_slo_failure_is_the_clusters_answer_even_when_the_generator_was_short() -> None:
    assert ProbeResult(40_000, "probe", False, 20_000).outcome == "failed"
    assert ProbeResult(40_000, "probe", True, None).outcome == "generator"


def test_holding_at_the_max_rate_ends_the_search() -> None:
    settings = SearchSettings(start=5000, max_rate=30_000, growth=2.0, resolution=0.05, max_probes=20)
    found, results = search(System(100_000), settings)
    assert found.reason == "max_rate" and found.held == 30_000
    assert [r.rate for r in results] == [5000, 10000, 20000, 30000]


def test_the_probe_limit_ends_the_search_with_the_bracket() -> None:
    settings = SearchSettings(start=5000, max_rate=1_000_000, growth=2.0, resolution=0.01, max_probes=7)
    found, results = search(System(50_000), settings)
    assert found.reason == "probe_limit" and len(results) == 7
    assert found.held < 50_000 < found.failed


def test_the_first_probe_is_the_start_rate() -> None:
    assert next_probe(SETTINGS, []) == NextProbe(5000, "probe")
