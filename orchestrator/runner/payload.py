"""Message values: the 18-byte sequence prefix followed by filler or a line of the payload file.

A value is never shorter than the prefix, so sizes below 18 bytes are sent as 18 bytes. Sizes from
a distribution are drawn once into a pool (seeded, so a run is reproducible) and used in turn;
the filler bytes are random, so compression measures something real rather than zeros.
"""

from __future__ import annotations

import random
from pathlib import Path

from orchestrator.runner.sequence import PREFIX_BYTES
from orchestrator.runner.spec import MessageSpec

_POOL = 4096
_POOL_BYTES = 64 * 1024**2


class PayloadError(ValueError):
    pass


def fillers(spec: MessageSpec, rng: random.Random) -> list[bytes]:
    """The bytes that follow the prefix, used in turn."""
    if spec.payload_file is not None:
        return _file_lines(Path(spec.payload_file))
    sizes = _sizes(spec, rng)
    noise = rng.randbytes(max(sizes) - PREFIX_BYTES if max(sizes) > PREFIX_BYTES else 0)
    return [noise[:max(0, size - PREFIX_BYTES)] for size in sizes]


def _sizes(spec: MessageSpec, rng: random.Random) -> list[int]:
    if spec.distribution == "fixed":
        return [spec.size]
    count = max(1, min(_POOL, _POOL_BYTES // max(1, spec.max)))
    if spec.distribution == "uniform":
        return [rng.randint(spec.min, spec.max) for _ in range(count)]
    return [min(spec.max, max(spec.min, round(rng.gauss(spec.mean, spec.stddev)))) for _ in range(count)]


def _file_lines(path: Path) -> list[bytes]:
    try:
        lines = [line for line in path.read_bytes().splitlines() if line]
    except OSError as e:
        raise PayloadError(f"{path}: cannot read payload file: {e.strerror}") from None
    if not lines:
        raise PayloadError(f"{path}: payload file has no non-empty lines")
    return lines
