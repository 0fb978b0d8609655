"""A long fuzzing run: tests/reliability/test_fuzz.py with more examples (and optionally another
seed), then its figures: operations, identities, examples, requests, time, statuses.

Run: `python -m bench.fuzz [--examples 25] [--stateful 25] [--seed 7]` (the suite runs 3 examples
per operation, mode and identity, and 4 stateful scenarios of up to 8 chained calls per role,
derandomised).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=25, help="per operation, mode and identity")
    parser.add_argument("--stateful", type=int, default=25, help="stateful scenarios (chains of calls) per role")
    parser.add_argument("--seed", type=int, default=None, help="explore other examples than the suite's")
    parser.add_argument("pytest_args", nargs="*", help="extra pytest arguments, e.g. -k contracts")
    args = parser.parse_args()
    report = Path(tempfile.mkdtemp(prefix="govbuy-fuzz-")) / "fuzz.json"
    env = {**os.environ, "GOVBUY_FUZZ_EXAMPLES": str(args.examples), "GOVBUY_FUZZ_STATEFUL": str(args.stateful),
           "GOVBUY_FUZZ_REPORT": str(report)}
    if args.seed is not None:
        env["GOVBUY_FUZZ_SEED"] = str(args.seed)
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability/test_fuzz.py", *args.pytest_args],
        cwd=ROOT, env=env,
    )
    wall = time.perf_counter() - started
    if not report.exists():
        sys.exit(result.returncode or 1)
    figures = json.loads(report.read_text())
    by_identity: dict[str, dict[str, int]] = defaultdict(dict)
    for key, n in figures["statuses"].items():
        identity, status = key.split()
        by_identity[identity][status] = n
    print(f"\noperations {figures['operations']} × identities {len(figures['identities'])} × "
          f"≤{figures['examples']} examples per mode: {figures['requests']} requests, "
          f"{figures['seconds']:.0f} s fuzzing ({wall:.0f} s with setup); "
          f"stateful phase: {figures.get('stateful_steps', 0)} chained calls")
    for identity in figures["identities"]:
        statuses = by_identity.get(identity, {})
        print(f"  {identity:<11} {sum(statuses.values()):>6} requests  " + "  ".join(f"{s}:{n}" for s, n in sorted(statuses.items())))
    print(f"operations with failures: {figures['failed_operations'] or 'none'}")
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
