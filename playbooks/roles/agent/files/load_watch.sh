#!/bin/sh
# usage: load_watch.sh RUN_DIR STALE_S NAME...
# Stops this run's runners (RUN_DIR/NAME.pid) when apply's heartbeat goes stale: apply touches
# RUN_DIR/heartbeat every second (load_stream.py), so a file older than STALE_S seconds means apply is gone
# (killed, or its machine lost). Ends by itself once no runner is left; Ansible's async timeout
# bounds it as it bounds the runners.
dir=$1 stale=$2
shift 2
touch "$dir/heartbeat"
while :; do
  sleep "${LOAD_WATCH_EVERY_S:-5}"
  running=0
  for name in "$@"; do
    # a runner that has not written its pid yet is still starting
    if [ ! -f "$dir/$name.pid" ] || kill -0 "$(cat "$dir/$name.pid")" 2>/dev/null; then running=1; fi
  done
  [ "$running" = 0 ] && exit 0
  age=$(( $(date +%s) - $(date -r "$dir/heartbeat" +%s) ))
  if [ "$age" -gt "$stale" ]; then
    for name in "$@"; do
      [ -f "$dir/$name.pid" ] && kill -TERM "$(cat "$dir/$name.pid")" 2>/dev/null
    done
    echo "heartbeat ${age}s old: runners stopped"
    exit 0
  fi
done
