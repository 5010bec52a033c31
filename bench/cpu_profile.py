"""Run a module under cProfile with a CPU-time clock (`time.process_time`), not wall time:
on a loaded machine the wall clock charges the waits (a lock, the scheduler) to whatever runs.
Forked children (the parser workers) are not profiled.

    python bench/cpu_profile.py OUT.prof -m listarchive.cli --data-dir DIR sync ...
"""

from __future__ import annotations

import cProfile
import os
import runpy
import sys
import time
from pathlib import Path


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[2] != "-m":
        sys.exit(__doc__)
    out, module = sys.argv[1], sys.argv[3]
    sys.argv = [module, *sys.argv[4:]]
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository root, not bench/
    profile = cProfile.Profile(time.process_time)
    os.register_at_fork(after_in_child=profile.disable)  # forked parser workers: not profiled
    profile.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
