# The two commands a newcomer needs (see README.md). Both set everything up first.
.PHONY: setup quickstart test

setup:
	bash .ci/setup

quickstart: setup
	.venv/bin/orchestrate apply plans/quickstart.yaml

# pytest exits 5 when it collects no tests; that is not a failure of the suite itself.
test: setup
	.venv/bin/python -m pytest -q -p no:cacheprovider tests; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc
