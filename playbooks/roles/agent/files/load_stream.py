"""usage: load_stream.py RUN_DIR EVERY_S NAME=RESULTS_FILE=OFFSET ...

Streams one workload's runner records on this agent to apply over a single SSH session, so that
following a run costs no playbook run per poll. Every EVERY_S seconds it touches RUN_DIR/heartbeat
(the sign load_watch.sh waits for that apply is alive) and writes to stdout:

    R NAME OFFSET LINE   each complete line appended to RUN_DIR/NAME.jsonl, OFFSET the byte after it
    S NAME RC            once, when the runner's Ansible async job (its RESULTS_FILE) has finished
    H                    when there was nothing else, so that a closed pipe is noticed within a tick
    E                    last: every job has finished and every record was sent

It starts each file at OFFSET, so a reconnect resumes where the previous session stopped. It ends
after E, or as soon as apply's end of the pipe is gone (apply died or the connection dropped).
Standard library only: it runs with whatever Python the agent has.
"""

import json
import os
import sys
import time


def job_state(results_file):
    """None while the async job runs, else its exit status ('' when Ansible recorded none)."""
    try:
        with open(results_file) as handle:
            result = json.load(handle)
    except (OSError, ValueError):
        return None  # not written yet, or being rewritten
    if result.get("started") and not result.get("finished"):
        return None
    return result.get("rc", "")


def new_lines(path, offset):
    """Complete lines of ``path`` from byte ``offset``, each with the offset just after it."""
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read()
    except OSError:
        return []  # the runner has not created it yet
    out = []
    start = 0
    while True:
        end = data.find(b"\n", start)
        if end < 0:
            return out
        out.append((offset + end + 1, data[start:end].decode("utf-8", "replace")))
        start = end + 1


def touch(path):
    try:
        os.utime(path)
    except FileNotFoundError:
        open(path, "a").close()


def main(argv):
    run_dir, every = argv[1], float(argv[2])
    runners = {}
    for arg in argv[3:]:
        name, results_file, offset = arg.rsplit("=", 2)
        runners[name] = {"results": results_file, "offset": int(offset), "rc": None}
    heartbeat = os.path.join(run_dir, "heartbeat")
    out = sys.stdout
    try:
        while True:
            touch(heartbeat)
            wrote = False
            for name, runner in runners.items():
                # the state first: a job seen finished has written all its records by now
                if runner["rc"] is None:
                    runner["rc"] = job_state(runner["results"])
                    finished_now = runner["rc"] is not None
                else:
                    finished_now = False
                for offset, line in new_lines(os.path.join(run_dir, name + ".jsonl"), runner["offset"]):
                    out.write(f"R {name} {offset} {line}\n")
                    runner["offset"] = offset
                    wrote = True
                if finished_now:
                    out.write(f"S {name} {runner['rc']}\n")
                    wrote = True
            if all(r["rc"] is not None for r in runners.values()):
                out.write("E\n")
                out.flush()
                return 0
            if not wrote:
                out.write("H\n")
            out.flush()
            time.sleep(every)
    except BrokenPipeError:
        # apply is gone: the watcher stops the runners once the heartbeat is stale. Nothing more
        # can be written, not even the interpreter's final flush
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
