from orchestrator.runner.histogram import Histogram
from orchestrator.runner.producer import Interval


def interval(latencies=(), late=(), delays=(), zero_delays=0) -> Interval:
    i = Interval()
    i.latencies, i.late, i.delays, i.zero_delays = list(latencies), list(late), list(delays), zero_delays
    return i


def hist(data: dict) -> Histogram:
    return Histogram.from_dict(data)


def test_unthrottled_acks_have_corrected_latency_equal_to_publish_latency():
    h = interval(latencies=[0.001, 0.250], zero_delays=2).histograms()
    assert h["corrected_latency"] == h["publish_latency"]
    assert (hist(h["publish_latency"]).min, hist(h["publish_latency"]).max) == (1000, 250000)
    assert hist(h["publish_delay"]).to_dict()["counts"] == {"0": 2}


def test_throttled_acks_add_their_delay_to_the_corrected_latency():
    h = interval(late=[(0.002, 3000)], delays=[3000]).histograms()
    assert (hist(h["publish_latency"]).max, hist(h["corrected_latency"]).max) == (2000, 5000)
    assert hist(h["publish_delay"]).max == 3000


def test_acked_counts_both_kinds_of_ack():
    assert interval(latencies=[0.001], late=[(0.001, 0)]).acked == 2
