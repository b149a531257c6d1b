import random

import pytest

from orchestrator.runner.payload import PayloadError, fillers
from orchestrator.runner.sequence import PREFIX_BYTES
from orchestrator.runner.spec import MessageSpec


def test_fixed_size_values_are_exactly_that_size():
    (filler,) = fillers(MessageSpec(size=100), random.Random(1))
    assert PREFIX_BYTES + len(filler) == 100


def test_sizes_below_the_prefix_are_sent_as_the_prefix():
    assert fillers(MessageSpec(size=4), random.Random(1)) == [b""]


def test_uniform_sizes_stay_within_bounds():
    sizes = {PREFIX_BYTES + len(f) for f in fillers(MessageSpec("uniform", min=50, max=200), random.Random(1))}
    assert min(sizes) >= 50 and max(sizes) <= 200 and len(sizes) > 50


def test_normal_sizes_are_clamped():
    spec = MessageSpec("normal", mean=100, stddev=80, min=40, max=150)
    sizes = [PREFIX_BYTES + len(f) for f in fillers(spec, random.Random(1))]
    assert min(sizes) == 40 and max(sizes) == 150


def test_same_seed_gives_same_payloads():
    spec = MessageSpec("uniform", min=50, max=200)
    assert fillers(spec, random.Random(9)) == fillers(spec, random.Random(9))


def test_payload_file_lines_are_used_in_turn(tmp_path):
    path = tmp_path / "payloads.txt"
    path.write_bytes(b'{"a": 1}\n\n{"b": 2}\n')
    assert fillers(MessageSpec(payload_file=str(path)), random.Random(1)) == [b'{"a": 1}', b'{"b": 2}']


def test_empty_payload_file_is_rejected(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n")
    with pytest.raises(PayloadError, match="no non-empty lines"):
        fillers(MessageSpec(payload_file=str(path)), random.Random(1))
