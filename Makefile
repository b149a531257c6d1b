# The two commands a newcomer needs (see README.md). Both set everything up first.
.PHONY: setup quickstart test

setup:
	bash .ci/setup

quickstart: setup
	.venv/bin/orchestrate apply plans/quickstart.yaml

# pytest exits 5 when it collects no tests: a broken collection, so it fails like any other error.
test: setup
	.venv/bin/python -m pytest -q -p no:cacheprovider --durations=30 tests
