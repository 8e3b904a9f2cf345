"""Why held-out validation puzzles score below the in-domain test set for the same model: per N, how many
solutions each puzzle has, and the model's pass@1 per solution-count bin on both sets.

The test set is drawn first from the generator and the train set skips its puzzles; the validation
puzzles (dpo_probe.validation) are drawn after train and skip every train puzzle. With 50,000 train
puzzles of three integers over a small space, the three-integer puzzles the train draw missed are the
rare ones, and a puzzle is rare when few move sequences reach its target: few solutions. This counts
the solutions exhaustively (ordered step sequences within the bound) and scores the model greedily on
both sets (the test predictions come from the evaluate stage). Pure Python but for one greedy pass.

    python benchmarks/validation_gap.py [--model models/mining] [--val 500]
"""
from __future__ import annotations

import argparse
import statistics

from dpo_probe import greedy, validation
from mathtune import config, io, puzzles, tables

BINS = ((1, 2), (3, 6), (7, 20), (21, None))


def solutions(pool: list[int], target: int, ops: str, bound: int) -> int:
    """Ordered step sequences that use every number once, stay within the bound and end at the target."""
    if len(pool) == 1:
        return int(pool[0] == target)
    count = 0
    for i, a in enumerate(pool):
        for j, b in enumerate(pool):
            for op in ops if i != j else "":
                c = puzzles._apply(a, op, b)
                if c is not None and abs(c) <= bound:
                    count += solutions([x for k, x in enumerate(pool) if k not in (i, j)] + [c], target, ops, bound)
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/mining", help="a stage's model folder (its test predictions are read)")
    ap.add_argument("--val", type=int, default=500)
    args = ap.parse_args()
    cfg = config.load("puzzles")
    stage = args.model.rstrip("/").split("/")[-1]
    test = io.read_jsonl(io.path("data/puzzles/in_domain.jsonl"))
    right = {p["id"]: bool(p["correct"]) for p in tables.predictions(stage, "in_domain")}
    val = validation(args.val)
    right.update(zip([it["id"] for it in val], greedy(str(io.path(args.model)), val)))
    sets = {"test": test, "validation": val}
    sol = {it["id"]: solutions(list(it["numbers"]), it["target"], cfg.ops, cfg.bound) for s in sets.values() for it in s}
    print(f"## {stage}: in-domain test vs validation puzzles, by N and by number of solutions")
    print("| N | solutions | test: items, median solutions | test pass@1 | validation: items, median solutions | validation pass@1 |")
    print("|---|---|---|---|---|---|")
    for n in sorted({len(it["numbers"]) for it in test}):
        for lo, hi in ((1, None),) + BINS:
            cells = []
            for items in sets.values():
                sub = [it for it in items if len(it["numbers"]) == n and lo <= sol[it["id"]] <= (hi or 10**9)]
                k = sum(right[it["id"]] for it in sub)
                med = statistics.median(sol[it["id"]] for it in sub) if sub else "—"
                cells += [f"{len(sub)}, {med}", f"{k}/{len(sub)} = {k / len(sub):.3f}" if sub else "—"]
            label = "all" if hi is None and lo == 1 else f"{lo}–{hi or 'more'}"
            print(f"| {n} | {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
