from confluent_kafka import KafkaError

from orchestrator.runner.histogram import Histogram
from orchestrator.runner.producer import SendInterval, NativeProducer, SendMarks


def interval(latencies=(), late=(), delays=(), zero_delays=0) -> SendInterval:
    i = SendInterval()
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


def test_nothing_in_flight_has_waited_zero():
    marks = SendMarks()
    marks.sent(10, 1_000_000_000)
    assert marks.oldest_wait_ns(10, 5_000_000_000) == 0


def test_oldest_wait_counts_from_the_mark_of_the_first_unfinished_message():
    # messages 0-99 sent by t=1 s, 100-199 by t=2 s
    # 99 finished in any order: one of the first 100 is unfinished, so sent by t=1 s
    assert _marks().oldest_wait_ns(99, 12_000_000_000) == 11_000_000_000
    # 150 finished: one of the first 151 is unfinished, sent by t=2 s
    assert _marks().oldest_wait_ns(150, 12_000_000_000) == 10_000_000_000


def test_sends_closer_than_the_resolution_share_one_mark_that_moves_forward():
    marks = SendMarks()
    for k in range(1, 1001):  # 1,000 sends over 99.9 ms
        marks.sent(k, 1_000_000_000 + k * 100_000)
    assert len(marks._marks) == 1
    # the mark's time is the last send's, so the wait is never overstated
    assert marks.oldest_wait_ns(0, 1_100_000_000) == 0
    assert marks.oldest_wait_ns(0, 2_100_000_000) == 1_000_000_000


def _marks() -> SendMarks:
    marks = SendMarks()
    marks.sent(100, 1_000_000_000)
    marks.sent(200, 2_000_000_000)
    return marks


class _Message:
    def value(self) -> bytes:
        return b"not a sequenced message"

    def partition(self) -> int:
        return 0


def test_failed_deliveries_are_counted_by_kafka_error_name():
    producer = object.__new__(NativeProducer)  # only the delivery callbacks, no client
    producer.cur, producer.failed = SendInterval(), {}
    for err in (KafkaError._MSG_TIMED_OUT, KafkaError._MSG_TIMED_OUT, KafkaError.NOT_ENOUGH_REPLICAS):
        producer._acked(KafkaError(err), _Message())
    producer._acked_late(5, KafkaError(KafkaError.NOT_ENOUGH_REPLICAS), _Message())
    assert (producer.cur.errors, producer.cur.error_codes) == (4, {"_MSG_TIMED_OUT": 2, "NOT_ENOUGH_REPLICAS": 2})
