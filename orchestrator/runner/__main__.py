"""``python -m orchestrator.runner SPEC.json``: run one producer or consumer instance.

Exit status: 0 when the schedule ran (or a SIGINT/SIGTERM stopped it: what was measured is
flushed first; a consumer first reads what is left in its partitions, bounded by its drain, and a
second signal cuts that short), 1 when the run failed, 2 for an invalid spec. Failures also get an ``end`` record
with reason "error" when the spec named an output file, and one line on stderr.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path

from confluent_kafka import KafkaException

from orchestrator.runner.client import LOG, RunnerError, StopFlag
from orchestrator.runner.consumer import NativeConsumer
from orchestrator.runner.payload import PayloadError
from orchestrator.runner.producer import NativeProducer
from orchestrator.runner.records import RecordWriter
from orchestrator.runner.spec import SpecError, load_spec


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m orchestrator.runner SPEC.json", file=sys.stderr)
        return 2
    try:
        spec = load_spec(Path(argv[0]))
    except SpecError as e:
        print(f"runner: {e}", file=sys.stderr)
        return 2
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("librdkafka %(levelname)s: %(message)s"))
    LOG.addHandler(handler)
    LOG.propagate = False
    stop = StopFlag()

    def request_stop(signum: int, frame: object) -> None:
        stop.signals += 1

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    writer = RecordWriter(spec)
    role = NativeProducer if spec.role == "producer" else NativeConsumer
    error, runner = None, None
    try:
        runner = role(spec, writer, stop)
        runner.run()
    except (RunnerError, PayloadError) as e:
        error = str(e)
    except KafkaException as e:
        error = f"client error: {e.args[0].str() if e.args else e}"
    except Exception as e:  # noqa: BLE001 - a runner bug still ends with an end record and one line
        error = f"internal error: {type(e).__name__}: {e}"
    reason = "error" if error else ("signal" if stop.requested else "done")
    writer.end(reason, error, runner.end_fields() if runner is not None else {})
    writer.close()
    if error:
        print(f"runner {spec.workload}/{spec.instance}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    status = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Everything is written by now. Skip interpreter teardown: destroying a librdkafka handle can
    # block forever (seen with a consumer whose SASL broker had gone), which would leave a runner
    # that never exits.
    os._exit(status)
