"""The report's broker (JMX) and host charts: a line per broker, zero panels said in a sentence."""

from orchestrator.collect.timeline import SeriesKey
from orchestrator.report.charts import Markers
from orchestrator.report.sources import BROKER_PANELS, HOST_PANELS, source_charts
from tests.fakes import make_measured


def test_panels_with_data_are_drawn_per_broker_and_zero_ones_named():
    tl = make_measured(4, {}).timeline
    for broker in ("1", "2"):
        tl.series[SeriesKey("broker.request_handler_idle", host=broker)] = [90.0, 80.0, None, 70.0]
        tl.series[SeriesKey("broker.isr_shrinks", host=broker)] = [0.0, 0.0, None, 0.0]
    tl.series[SeriesKey("broker.under_replicated")] = [1.0] * 4  # the admin samples' cluster count: not here
    [chart], zero = source_charts(tl, Markers(), BROKER_PANELS, "broker {}")
    [(title, _, traces)] = chart.panels
    assert title == "Thread idle" and [t.label for t in traces] == ["broker 1 · request handlers", "broker 2 · request handlers"]
    assert zero == "Zero in every sample: ISR changes and unclean elections."


def test_nothing_sampled_draws_nothing():
    assert source_charts(make_measured(4, {}).timeline, Markers(), HOST_PANELS, "{}") == ([], "")
