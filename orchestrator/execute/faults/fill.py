"""disk_full's fill file, wherever the broker's log dir is: imported by ``disk.py`` for a log dir on
this machine, and run as a stand-alone script on a broker host reached over ssh (the kafka role's
``fault_fill.yml`` sends it with ``ansible.builtin.script``), so both fill the same way. Standard
library only.

    python3 fill.py PATH FILL_TO|-    prints {"written": bytes, "used": share of the file system}
"""

from __future__ import annotations

import errno
import json
import os
import sys
from pathlib import Path

CHUNK = 64 * 1024**2
SMALLEST = 4096


class FillError(Exception):
    pass


def fill(path: Path, fill_to: float | None) -> tuple[int, float]:
    """Fills the file system of ``path``'s directory to ``fill_to`` of its size (None: to the last free
    byte) with the file ``path``; returns the bytes written and the share of the file system used after."""
    st = os.statvfs(path.parent)
    total, free = st.f_blocks * st.f_frsize, st.f_bfree * st.f_frsize  # root may use the reserved blocks too
    wanted = free if fill_to is None else max(0, int(fill_to * total) - (total - free))
    written = allocate(path, wanted)
    after = os.statvfs(path.parent)
    return written, 1 - after.f_bavail / after.f_blocks if after.f_blocks else 1.0


def allocate(path: Path, wanted: int) -> int:
    """Allocates up to ``wanted`` bytes of real blocks (not a sparse file) and returns how many; a
    file system that runs out first is filled to its last block."""
    done, chunk = 0, CHUNK
    try:
        out = path.open("wb")
    except OSError as err:
        raise FillError(f"cannot fill {path}: {err.strerror}") from None
    with out:
        while done < wanted and chunk >= SMALLEST:
            size = min(chunk, wanted - done)
            try:
                os.posix_fallocate(out.fileno(), done, size)
            except OSError as err:
                if err.errno != errno.ENOSPC:
                    raise FillError(f"cannot fill {path}: {err.strerror}") from None
                chunk //= 16
                continue
            done += size
    return done


def main(argv: list[str]) -> int:
    path, fill_to = Path(argv[0]), None if argv[1] == "-" else float(argv[1])
    try:
        written, used = fill(path, fill_to)
    except FillError as err:
        print(err, file=sys.stderr)
        return 1
    print(json.dumps({"written": written, "used": used}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
