"""Why a model's puzzle answers fail: the verifier's first reason, by step and by N, against how hard
the search is (the share of legal first moves from which the target is still reachable).

Reads a model's scored predictions (`data/predictions/<model>/<set>.jsonl`, written by the evaluate
stage) and the test items; the exhaustive solver (`answers._solve`) decides which first moves are
good. Pure Python, seconds.

    python benchmarks/failure_modes.py --model sft --set in_domain [--rev <experiment name or commit>]

A wrong answer's reason is read in the order its gold is written (`answers.diagnose`): a goal or unwind
run's answers are named by their own steps, also for runs recorded before evaluate used it.

The last table reads the arithmetic of every step the answers write (`answers.steps`), right or wrong
in the puzzle: the share of `a op b = c` with c = a op b, by operator and by how many operands are above
the train range's top (params.yaml `puzzles.value_max`). `--scores <probe>/scores.json --set S` reads a learning_probe run's answers instead.
"""
from __future__ import annotations

import argparse
import collections
import json
import re
from pathlib import Path

from mathtune import answers, config, io, tables
from mathtune.mining import good_first_moves


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="sft")
    ap.add_argument("--set", default="in_domain")
    ap.add_argument("--rev", default=None, help="read the predictions of this DVC experiment or commit")
    ap.add_argument("--scores", default=None, help="a learning_probe scores.json: its answers' step arithmetic only")
    args = ap.parse_args()
    if args.scores:
        step_arithmetic(json.loads(Path(args.scores).read_text())["items"][f"{args.set}/outputs"], args.scores)
        return
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
    step_arithmetic([p["output"] for p in preds], f"{args.model} on {args.set}")


def step_arithmetic(outputs: list[str], what: str) -> None:
    """The written steps' arithmetic, right or not, by operator kind and operands above the train range."""
    top = config.load("puzzles").value_max
    tally = collections.defaultdict(lambda: [0, 0])
    for out in outputs:
        for step in answers.steps(out):
            if step is None:
                continue
            a, op, b, c = int(step[0]), step[1], int(step[2]), int(step[3])
            above = (abs(a) > top) + (abs(b) > top)
            right = tally[("+ -" if op in "+-" else "* /", above)]
            right[0] += answers._apply(a, op, b) == c
            right[1] += 1
    print(f"\n## {what}: written steps whose result is right, by operands above {top}")
    print(f"| operators | operands above {top} | steps | right |\n|---|---|---|---|")
    for (ops, above), (r, n) in sorted(tally.items()):
        print(f"| {ops} | {above} | {n} | {r / n:.3f} |")


if __name__ == "__main__":
    main()
