"""Two model folders paired on held-out puzzles: the DPO probe's validation set (none in train or test)
and two fresh in-domain sets drawn as the test set is (puzzles seeds 7 and 8), by N and, for the fresh
sets, on the puzzles not in train. Session 15 chose the state trace with it (docs/sessions.md "Session 15");
about 10 minutes on 2 cores. Prints markdown rows and writes the per-item bits to OUT (JSON).

    python benchmarks/heldout_pair.py models/sft <other model folder> OUT
"""
from __future__ import annotations

import argparse
import json

from dpo_probe import greedy, train_keys, validation
from validation_gap import fresh_items
from mathtune import config, stats


def row(name: str, label: str, a: list[bool], b: list[bool]) -> str:
    p = stats.paired(a, b)
    return (f"| {name} | {label} | {len(a)} | {sum(a)} | {sum(b)} | {p['a']:.3f} [{p['a_ci'][0]:.3f}, {p['a_ci'][1]:.3f}] | "
            f"{p['b']:.3f} [{p['b_ci'][0]:.3f}, {p['b_ci'][1]:.3f}] | {p['only_a']} / {p['only_b']} | {p['p']:.2g} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model_a")
    ap.add_argument("model_b")
    ap.add_argument("out", help="JSON file for the per-item bits")
    args = ap.parse_args()
    cfg = config.load("puzzles")
    train = train_keys()
    sets = {"validation": validation(500), "fresh7": fresh_items(cfg, 7), "fresh8": fresh_items(cfg, 8)}
    print("| set | subset | items | A right | B right | A | B | only A / only B | p |")
    print("|---|---|---|---|---|---|---|---|---|")
    res = {}
    for name, items in sets.items():
        ra, rb = greedy(args.model_a, items), greedy(args.model_b, items)
        res[name] = [list(map(bool, ra)), list(map(bool, rb))]
        subsets = {"all": range(len(items)), "N=3": [], "N=4": []}  # item indices
        for i, it in enumerate(items):
            subsets.setdefault(f"N={len(it['numbers'])}", []).append(i)
        if name != "validation":
            subsets["not in train"] = [i for i, it in enumerate(items) if (tuple(it["numbers"]), it["target"]) not in train]
        for label, idx in subsets.items():
            print(row(name, label, [ra[i] for i in idx], [rb[i] for i in idx]), flush=True)
    with open(args.out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()
