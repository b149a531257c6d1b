"""A small valid plan with known line numbers, shared by the plan tests."""

# line numbers:  1 metadata, 2 name, 3 topics, 4 - name: orders, 5 workloads, 6 - name: p,
# 7 kind, 8 topic, 9 rate, 10 - name: c, 11 kind, 12 topic, 13 phases, 14 - name: s, 15 kind,
# 16 duration; extra sections appended by a test start on line 17.
BASE = """\
metadata:
  name: t
topics:
  - name: orders
workloads:
  - name: p
    kind: producer
    topic: orders
    rate: 1k/s
  - name: c
    kind: consumer
    topic: orders
phases:
  - name: s
    kind: steady
    duration: 10s
"""

