"""Randomised crash trials: SIGKILL to a worker, the API process or the whole tree at a random moment.

    .venv/bin/python bench/crash.py [--trials 20] [--seed 0] [--lines 1200]

Each trial runs a ONE_DOC_PER_LINE job in a fresh `opencomprehend serve`, kills its victim at its moment
(listing, first shard, last shard, assembly), restarts the server if it died, and may ask for a STOP or
make the output unwritable (the FAILED path). It then checks the job's end: COMPLETED with every document
exactly once and in order, STOPPED with no document twice, FAILED with nothing at the output key, and no
worker process outliving its server (tests/support/crash.py). Prints each trial and the totals; the
baseline is a trial with no kill at all, run first, whose time each trial's is compared to.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.crash import ENDINGS, MOMENTS, VICTIMS, trial  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lines", type=int, default=1200)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        base = trial(Path(tmp) / "baseline", "worker", "listing", "complete", args.lines)
        baseline = time.perf_counter() - started
    print(f"baseline (a worker killed as the job is listed): {baseline:.1f} s, problems: {base.problems or 'none'}")

    failures = duplicated = lost = 0
    for n in range(args.trials):
        victim, moment = rng.choice(VICTIMS), rng.choice(MOMENTS)
        ending = rng.choices(ENDINGS, weights=(3, 1, 1))[0]
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            outcome = trial(Path(tmp), victim, moment, ending, args.lines)
            took = time.perf_counter() - started
        failures += bool(outcome.problems)
        duplicated += outcome.duplicated
        lost += outcome.lost
        print(
            f"trial {n + 1:2d}: kill {victim:<6} at {moment:<11}, ending {ending:<8} -> {outcome.status:<9} "
            f"{outcome.records:5d} records, {took:5.1f} s ({took / baseline:.2f}x baseline); "
            f"problems: {'; '.join(outcome.problems) or 'none'}",
            flush=True,
        )
    print(
        f"\n{args.trials} trials: {failures} with problems, {lost} documents lost, {duplicated} duplicated "
        "(target 0 of each)"
    )
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
