"""Time to compile the record of one contracting process of ~20 releases (docs/ocds.md,
"Records and merging"): the process of tests/public/sample.py at each of its stages, four
releases per stage, each a full snapshot as the feed publishes them.

    .venv/bin/python -m bench.ocds_merge [--releases 20] [--repeat 200]
"""

from __future__ import annotations

import argparse
import statistics
import time

from govbuy.public import ocds
from tests.public import sample


def releases(count: int) -> list[dict]:
    stages = list(sample.STAGES)
    return [sample.release(stages[min(i * len(stages) // count, len(stages) - 1)], seq=i + 1) for i in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    process = releases(args.releases)
    ocds.compile_releases(process)  # the schema's merge rules, read once per process
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        ocds.compile_releases(process)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(f"{args.releases} releases: median {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95)]:.2f} ms")


if __name__ == "__main__":
    main()
