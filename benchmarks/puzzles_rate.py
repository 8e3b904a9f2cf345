"""Benchmark: puzzle synthesis + verification rate, and the verifier's worst-case latency.

Run on demand with `make bench` (not part of the tests). Prints puzzles/s with 1 worker (the baseline,
measured in the same run) and with `--workers` workers, their ratio, and the goal (1M puzzles/min).

    python benchmarks/puzzles_rate.py --n 1000000 --workers 2
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
import types

from mathtune import answers, puzzles


def rate(n: int, workers: int) -> float:
    cfg = types.SimpleNamespace(seed=0, ops="+-*/", train_size=n, train_n_from=3, train_n_min=3, train_n_max=6,
                                value_min=1, value_max=100, bound=1000, trace="state", test_size=1000,
                                ood_value_max=1000, ood_n=7, workers=workers)
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        puzzles.synthesize(cfg, d)
        return (n + 3000) / (time.perf_counter() - start)


def verifier_worst_ms() -> float:
    hostile = ["1" * 4000, ", ".join(["1+1=2"] * 680), "9**9**9**9" * 400, ", ".join(["12345*6789=83810205"] * 200)]
    start = time.perf_counter()
    for h in hostile * 25:
        answers.verify([1, 1, 2], 4, h[:4096])
    return (time.perf_counter() - start) / (len(hostile) * 25) * 1000


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    args = ap.parse_args()
    base = rate(args.n // 4, 1)
    fast = rate(args.n, args.workers)
    print(f"machine: {os.cpu_count()} cores; values 1-100, N 3-6 (the paper preset's ranges)")
    print(f"synthesis+verification, 1 worker (baseline): {base:,.0f} puzzles/s")
    print(f"synthesis+verification, {args.workers} workers: {fast:,.0f} puzzles/s = {fast * 60:,.0f}/min "
          f"(ratio {fast / base:.2f}x; goal 1,000,000/min: {'met' if fast * 60 >= 1e6 else 'NOT met'})")
    print(f"verifier worst case on 4 kB hostile inputs: {verifier_worst_ms():.3f} ms/call (goal < 10 ms)")
