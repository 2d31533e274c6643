"""Benchmark: what testing a misbehaving target costs (issue 19), in seconds and memory.

    python scripts/bench_hostile.py [--timeout 10] [trickle bomb huge slow]

Runs `msgconform run` against each stand-in of tests/hostile.py (a trickling answer, a
decompression bomb, a 60 MB answer, a merely slow target with max_duration 20) and prints
the wall time, the exit status, the peak resident size of msgconform and its suite
process (from getrusage(RUSAGE_CHILDREN)), and the one line that says why. It measures and
prints; it asserts nothing (tests/integration/test_hostile_targets.py holds the bounds).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.hostile import hostile_server, itslearning_targets, run_measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=10.0, help="the targets' timeout (default 10 s)")
    parser.add_argument("modes", nargs="*", default=["trickle", "bomb", "huge", "slow"])
    args = parser.parse_args()
    print("| target | seconds | exit | peak RSS | reason |")
    print("|---|---|---|---|---|")
    for mode in args.modes:
        limits = {"timeout": args.timeout} | ({"max_duration": 20} if mode == "slow" else {})
        with hostile_server(mode) as url, tempfile.TemporaryDirectory() as folder:
            targets = Path(folder) / "targets.toml"
            targets.write_text(itslearning_targets(url, **limits), encoding="utf-8")
            done, peak = run_measured(
                "run", "--targets", targets, "--report-dir", Path(folder) / "reports", timeout=3600
            )
        reason = next((line for line in done.stderr_lines if line.startswith("msgconform: itslearning: ")), "")
        print(f"| {mode} | {done.seconds:.1f} | {done.status} | {peak / 2**20:.0f} MiB | {reason[:160]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
