"""The command line. Argument parsing only: each command loads its input, calls one library
function and maps the exception tree (orchestrator.errors) to exit codes:

    0 all SLOs held · 1 an SLO failed or a regression was found · 2 invalid plan, input or arguments
    3 the run could not be carried out, or (report) it was killed or is incomplete
    130 interrupted (raw results and a partial report are kept)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from orchestrator.errors import OrchestrateError, PlanError, UsageError

EXIT_INTERRUPTED = 130
EXIT_UNFINISHED = 3  # report: apply died (killed) or the run never began (incomplete); it cannot pass
HOST_COMMANDS = ("validate", "apply", "provision")
EXIT_CODES = """exit codes:
  0    the run completed and every SLO held (validate: the plan is valid)
  1    an SLO failed, or compare --fail-if found a regression; the report is still written
  2    invalid plan, input file or arguments: one line per problem, FILE:LINE:COL: path: message
  3    the run could not be carried out (broker unreachable, tool or plugin missing, Ansible task failed,
       leftovers of a dead apply that cannot be stopped);
       report: the run is killed or incomplete (apply died, or it never began), so its verdict is fail
  130  interrupted; raw results and a partial report are kept"""
EXAMPLES = {
    "": ["orchestrate apply plans/quickstart.yaml",
         "orchestrate apply plans/quickstart.yaml --set phases.steady.duration=1m",
         'orchestrate compare runs/A runs/B --fail-if "publish_latency.p99 > +10%"'],
    "validate": ["orchestrate validate plans/quickstart.yaml",
                 "orchestrate validate plan.yaml --set workloads.producer.rate=50k/s"],
    "plan": ["orchestrate plan plans/broker-failure-recovery.yaml"],
    "apply": ["orchestrate apply plans/quickstart.yaml",
              "orchestrate apply plan.yaml --set phases.steady.duration=30s --run-dir runs/try-1",
              "orchestrate apply plan.yaml --keep-broker   # inspect the broker afterwards"],
    "render": ["orchestrate render plans/quickstart.yaml --out /tmp/rendered"],
    "provision": ["orchestrate provision plans/multi-broker-cluster.yaml"],
    "destroy": ["orchestrate destroy plans/multi-broker-cluster.yaml"],
    "report": ["orchestrate report runs/quickstart-20261125T090000Z"],
    "compare": ["orchestrate compare runs/A runs/B",
                'orchestrate compare runs/A runs/B --fail-if "publish_latency.p99 > +10%" --fail-if "produce.rate < -5%"'],
    "import-jmx": ["orchestrate import-jmx my-existing-kafka-test.jmx"],
    "schema": ["orchestrate schema > plan.schema.json"],
}


def _epilog(command: str) -> str:
    examples = "\n".join(f"  {line}" for line in EXAMPLES[command])
    return f"examples:\n{examples}\n\n{EXIT_CODES}"


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on bad arguments; keep its one-line message and our exit code."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("orchestrate").strip()
        raise UsageError(f"{command}: {message}" if command else message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="orchestrate", description="Declarative load, soak and failure testing for Apache Kafka",
                     epilog=_epilog(""), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, epilog=_epilog(name),
                              formatter_class=argparse.RawDescriptionHelpFormatter)

    def plan_command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = command(name, help_text)
        cmd.add_argument("plan", type=Path, help="plan YAML file")
        cmd.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                         help="override a plan field, e.g. --set phases.0.duration=10s (repeatable)")
        return cmd

    plan_command("validate", "check a plan and exit 0 when it is valid")
    plan_command("plan", "dry run: print the ordered steps apply will take")
    apply = plan_command("apply", "provision, run, collect and report")
    apply.add_argument("--run-dir", type=Path, help="run directory (default: runs/<plan>-<UTC timestamp>)")
    apply.add_argument("--keep-broker", action="store_true", help="leave the local broker running afterwards")
    apply.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                       help="outside a terminal, print a progress line this often (default 10; 0: none)")
    render = plan_command("render", "write the files apply would run (Taurus YAML, JMX, runner specs)")
    render.add_argument("--out", type=Path, required=True, help="output directory")
    plan_command("provision", "install and start the plan's cluster and agents through Ansible")
    plan_command("destroy", "stop and remove what provision installed")

    report = command("report", "rebuild every output of a run from its raw/ results")
    report.add_argument("run_dir", type=Path)
    compare = command("compare", "compare runs side by side; optionally fail on regressions")
    compare.add_argument("runs", type=Path, nargs="+", help="run directories; the first is the baseline")
    compare.add_argument("--out", type=Path, help="where to write the comparison report (default: compare-<timestamp> beside the last run)")
    compare.add_argument("--fail-if", action="append", default=[], metavar="EXPR",
                         help='e.g. "publish_latency.p99 > +10%%" (repeatable); exit 1 when one holds')
    importer = command("import-jmx", "inspect a JMeter test plan and print a plan snippet")
    importer.add_argument("jmx", type=Path)
    command("schema", "print the plan's JSON Schema")
    return parser


def _load(args: argparse.Namespace):
    from orchestrator.plan.loader import load_plan

    # the commands that act on hosts refuse faults those hosts cannot perform
    return load_plan(args.plan, overrides=args.overrides, check_hosts=args.command in HOST_COMMANDS)


def _run(args: argparse.Namespace) -> int:
    if args.command == "schema":
        from orchestrator.plan.schema import plan_json_schema

        print(json.dumps(plan_json_schema(), indent=2))
        return 0
    if args.command == "validate":
        plan = _load(args)
        print(f"{args.plan}: valid plan {plan.metadata.name!r} "
              f"({len(plan.workloads)} workloads, {len(plan.phases)} phases, {len(plan.slos)} SLOs)")
        return 0
    if args.command == "plan":
        from orchestrator.pipeline import describe

        for line in describe(_load(args), args.plan):
            print(line)
        return 0
    if args.command == "apply":
        from orchestrator.execute.lifeline import reap_stale
        from orchestrator.pipeline import apply
        from orchestrator.progress import Progress

        plan = _load(args)
        for line in reap_stale():  # what a dead apply left running would compete with this run
            print(f"orchestrate: {line}", file=sys.stderr)
        outcome = apply(plan, args.plan, run_dir=args.run_dir, keep_broker=args.keep_broker,
                        progress=Progress.for_stream(sys.stdout, args.progress_every))
        print(outcome.headline())
        return outcome.exit_code()
    if args.command == "render":
        from orchestrator.render import render_plan

        for path in render_plan(_load(args), args.plan, args.out):
            print(path)
        return 0
    if args.command in ("provision", "destroy"):
        from orchestrator import pipeline, provision
        from orchestrator.progress import Progress

        command = pipeline.provision if args.command == "provision" else provision.destroy
        progress = Progress.for_stream(sys.stdout)
        try:
            done = command(_load(args), args.plan, on_event=progress.ansible)
        finally:
            progress.close()
        print(done)
        return 0
    if args.command == "report":
        from orchestrator.report import build

        summary = build(args.run_dir)
        line = f"{args.run_dir / 'report' / 'index.html'}: verdict {summary.verdict}"
        if summary.run.unfinished:
            print(f"{line} (run {summary.run.status}: {summary.run.reason})")
            return EXIT_UNFINISHED
        print(line)
        return 0 if summary.verdict == "pass" else 1
    if args.command == "compare":
        from orchestrator.report.compare import compare

        result = compare(args.runs, out=args.out, fail_if=args.fail_if)
        print(result.headline())
        return 1 if result.regressions else 0
    if args.command == "import-jmx":
        from orchestrator.jmeter.importer import import_jmx

        print(import_jmx(args.jmx).render())
        return 0
    raise UsageError("a command is required (see orchestrate --help)")


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if args.version:
            from orchestrator import __version__

            print(f"orchestrate {__version__}")
            return 0
        return _run(args)
    except PlanError as err:
        for issue in err.issues:
            print(issue, file=sys.stderr)
        return err.exit_code
    except OrchestrateError as err:
        print(f"orchestrate: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("orchestrate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
