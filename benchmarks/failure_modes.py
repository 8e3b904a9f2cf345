"""Why a model's puzzle answers fail: the verifier's first reason, by step and by N, against how hard
the search is (the share of legal first moves from which the target is still reachable).

Reads a model's scored predictions (`data/predictions/<model>/<set>.jsonl`, written by the evaluate
stage) and the test items; the exhaustive solver (`answers._solve`) decides which first moves are
good. Pure Python, seconds.

    python benchmarks/failure_modes.py --model sft --set in_domain [--rev <experiment name or commit>]

A wrong answer's reason is read in the order its gold is written (`answers.diagnose`): a goal or unwind
run's answers are named by their own steps, also for runs recorded before evaluate used it.
"""
from __future__ import annotations

import argparse
import collections
import re

from mathtune import answers, io, tables
from mathtune.mining import good_first_moves


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="sft")
    ap.add_argument("--set", default="in_domain")
    ap.add_argument("--rev", default=None, help="read the predictions of this DVC experiment or commit")
    args = ap.parse_args()
    items = {it["id"]: it for it in io.read_jsonl(io.path(f"data/puzzles/{args.set}.jsonl"))}
    # the test items are the same in every run (puzzles.seed fixes them); a git-tracked record keeps only bits
    preds = tables.predictions(args.model, args.set, args.rev)
    if not preds or "reason" not in preds[0]:
        raise SystemExit(f"no scored predictions with reasons for {args.model}/{args.set} at {args.rev or 'workspace'}")
    reasons, by_n = collections.Counter(), collections.defaultdict(list)
    for p in preds:
        it = items[p["id"]]
        n = len(it["numbers"])
        by_n[n].append((good_first_moves(it["numbers"], it["target"]), bool(p["correct"])))
        reason = p["reason"] and answers.diagnose(it["numbers"], it["target"], p["output"], p["gold"])
        if reason:
            m = re.match(r"([a-z ]+?)(?::| at)? step (\d+)", reason)
            reasons[(n, m.group(1), int(m.group(2))) if m else (n, reason.split(":")[0], 0)] += 1
    print(f"## {args.model} on {args.set} ({args.rev or 'workspace'}): first failure reason (N, reason, step; 0 = whole answer)")
    print("| N | reason | step | answers |\n|---|---|---|---|")
    for (n, why, step), count in sorted(reasons.items()):
        print(f"| {n} | {why} | {step or '—'} | {count} |")
    print("\n| N | items | solved | mean share of good first moves | solved, hardest third | middle | easiest |")
    print("|---|---|---|---|---|---|---|")
    for n, rows in sorted(by_n.items()):
        rows.sort()
        k = len(rows) // 3
        thirds = [rows[:k], rows[k:2 * k], rows[2 * k:]]
        cells = " | ".join(f"{sum(ok for _, ok in t) / len(t):.3f}" for t in thirds)
        print(f"| {n} | {len(rows)} | {sum(ok for _, ok in rows)} | {sum(s for s, _ in rows) / len(rows):.3f} | {cells} |")


if __name__ == "__main__":
    main()
