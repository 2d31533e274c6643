"""Benchmark: how long replaying every committed cassette takes (target: 15 s on 2 cores).

    python scripts/bench_replay.py [--runs 3] [--cassette-dir cassettes]

Prints the wall time of each `msgconform run --replay`, the best and the median, and the
peak memory of the suite processes. It measures and prints; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cassette-dir", type=Path, default=Path(__file__).resolve().parents[1] / "cassettes")
    args = parser.parse_args()
    manifest = json.loads((args.cassette_dir / "manifest.json").read_text())
    interactions = sum(p.read_text().count("\n- request:") for p in args.cassette_dir.rglob("*.yaml"))
    print(f"cassettes: {args.cassette_dir} ({', '.join(manifest['apis'])}; {interactions} interactions)")
    times = []
    for index in range(args.runs):
        with tempfile.TemporaryDirectory() as reports:
            start = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "msgconform", "run", "--replay", "--cassette-dir", str(args.cassette_dir),
                 "--max-examples", str(manifest["max_examples"]), "--report-dir", reports],
                capture_output=True, text=True,
            )
            times.append(time.perf_counter() - start)
        print(f"run {index + 1}: {times[-1]:.2f} s (exit {done.returncode})")
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"replay of everything committed: best {min(times):.2f} s, median {statistics.median(times):.2f} s "
          f"(target 15 s); peak memory of a suite process {peak_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
