"""The synthetic-measurement fixtures of tests/fakes.py."""

from tests.fakes import measured_factory, plan  # noqa: F401  (pytest fixtures)
