"""Why held-out validation puzzles score below the in-domain test set for the same model: per N, how many
solutions each puzzle has, and the model's pass@1 per solution-count bin on both sets.

The test set is drawn first from the generator and the train set skips its puzzles; the validation
puzzles (dpo_probe.validation) are drawn after train and skip every train puzzle. With 50,000 train
puzzles of three integers over a small space, the three-integer puzzles the train draw missed are the
rare ones, and a puzzle is rare when few move sequences reach its target: few solutions. This counts
the solutions exhaustively (ordered step sequences within the bound) and scores the model greedily on
both sets (the test predictions come from the evaluate stage). Then it scores fresh in-domain sets
drawn as the puzzles stage draws its test set but with other seeds (`--fresh-seeds`), split by whether
a puzzle is in this train set: what "fresh puzzles" measure depends on that split.

    python benchmarks/validation_gap.py [--model models/mining] [--val 500] [--fresh-seeds 7 8]
"""
from __future__ import annotations

import argparse
import json
import statistics

from dpo_probe import greedy, train_keys, validation
from mathtune import answers, config, io, puzzles, stats, tables

BINS = ((1, 2), (3, 6), (7, 20), (21, None))


def solutions(pool: list[int], target: int, ops: str, bound: int) -> int:
    """Ordered step sequences that use every number once, stay within the bound and end at the target."""
    if len(pool) == 1:
        return int(pool[0] == target)
    return sum(solutions(list(answers.rest(pool, i, j)) + [c], target, ops, bound)
               for i, j, _, c in answers.moves(pool, ops, bound))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/mining", help="a stage's model folder (its test predictions are read)")
    ap.add_argument("--val", type=int, default=500)
    ap.add_argument("--fresh-seeds", type=int, nargs="*", default=[7, 8], help="puzzles seeds of fresh in-domain sets")
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
        for label, (lo, hi) in [("all", (1, None))] + [(f"{lo}–{hi or 'more'}", (lo, hi)) for lo, hi in BINS]:
            cells = []
            for items in sets.values():
                sub = [it for it in items if len(it["numbers"]) == n and lo <= sol[it["id"]] <= (hi or 10**9)]
                k = sum(right[it["id"]] for it in sub)
                med = statistics.median(sol[it["id"]] for it in sub) if sub else "—"
                cells += [f"{len(sub)}, {med}", f"{k}/{len(sub)} = {k / len(sub):.3f}" if sub else "—"]
            print(f"| {n} | {label} | " + " | ".join(cells) + " |")
    fresh(cfg, str(io.path(args.model)), args.fresh_seeds)


def fresh_items(cfg, seed: int, size: int = 500) -> list[dict]:
    """The puzzles stage's in-domain split drawn with puzzles seed `seed`: its first `size` unique puzzles."""
    items, seen = [], set()
    for key, line in puzzles._chunk((puzzles.splits(cfg)[0], cfg.ops, cfg.bound, cfg.trace, seed, 0, 2 * size)):
        if key not in seen and len(items) < size:
            seen.add(key)
            items.append(json.loads(line))
    return items


def fresh(cfg, model: str, seeds: list[int], size: int = 500) -> None:
    """Fresh in-domain sets: the puzzles stage's first split with another seed, unique puzzles, scored greedily."""
    train = train_keys()
    print(f"\n## {model}: fresh in-domain sets (puzzles seed k), split by whether a puzzle is in the train set")
    print("| seed | N | items | pass@1 | in train: right / items | not in train: right / items |")
    print("|---|---|---|---|---|---|")
    for seed in seeds:
        items = fresh_items(cfg, seed, size)
        ok = dict(zip([it["id"] for it in items], greedy(model, items)))
        for n in sorted({len(it["numbers"]) for it in items}) + [None]:
            sub = [it for it in items if n is None or len(it["numbers"]) == n]
            trained = [(tuple(it["numbers"]), it["target"]) in train for it in sub]
            right = [ok[it["id"]] for it in sub]
            seen_ = [r for r, t in zip(right, trained) if t]
            new = [r for r, t in zip(right, trained) if not t]
            lo, hi = stats.wilson(sum(right), len(sub))
            print(f"| {seed} | {n or 'all'} | {len(sub)} | {sum(right) / len(sub):.3f} [{lo:.3f}, {hi:.3f}] | "
                  f"{sum(seen_)} / {len(seen_)} | {sum(new)} / {len(new)} |")


if __name__ == "__main__":
    main()
