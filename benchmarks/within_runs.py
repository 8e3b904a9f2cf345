"""One comparison inside each of many whole runs (default SFT -> DPO, in-domain): both pass@1 with Wilson 95 %
intervals and the exact McNemar p of each run, then the runs pooled (discordant items summed, one sign test, as
the seed table pools seeds) and how many runs point each way. Each run is a predictions folder or a per-item
record (`reports/replicates/*.json`, `reports/experiments/predictions/<rev>.json`), as for runs_pair.py; a run
whose two models' results equal an earlier run's (an experiment's baseline listed twice) is counted once.
Runs on the same test items are not independent draws of items, so the pooled p says the direction holds
across runs, not that the items would give it again. Reads files only; seconds.

    python benchmarks/within_runs.py reports/replicates/s3*.json
    python benchmarks/within_runs.py --a sft --b mining --set mined_types data/predictions
"""
from __future__ import annotations

import argparse
from pathlib import Path

from runs_pair import rows  # benchmarks/ is on sys.path when a script here runs

from mathtune import stats, tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="predictions folders or per-item records (JSON)")
    ap.add_argument("--a", default="sft")
    ap.add_argument("--b", default="dpo")
    ap.add_argument("--set", default="in_domain", dest="test_set")
    args = ap.parse_args()
    field, seen, only_a, only_b, up, down = tables.result_field(args.test_set), set(), 0, 0, 0, 0
    print(f"{args.a} -> {args.b}, {args.test_set}\n")
    print("| run | n | A | B | only A right | only B right | McNemar p |\n|---|---|---|---|---|---|---|")
    for run in args.runs:
        ra, rb = rows(run, args.a, args.test_set), rows(run, args.b, args.test_set)
        if ra is None or rb is None:
            print(f"| {run} | no {args.a} or {args.b} results on {args.test_set} | | | | | |")
            continue
        a, b = [r[field] for r in ra], [r[field] for r in rb]
        if (tuple(a), tuple(b)) in seen:
            continue
        seen.add((tuple(a), tuple(b)))
        p = stats.paired(a, b)
        only_a, only_b = only_a + p["only_a"], only_b + p["only_b"]
        up, down = up + (p["b"] > p["a"]), down + (p["b"] < p["a"])
        ci = [f"{p[k]:.3f} [{p[k + '_ci'][0]:.3f}, {p[k + '_ci'][1]:.3f}]" for k in ("a", "b")]
        print(f"| {Path(run).stem} | {p['n']} | {ci[0]} | {ci[1]} | {p['only_a']} | {p['only_b']} | {p['p']:.3g} |")
    print(f"\n{len(seen)} runs: B above A in {up}, below in {down}; pooled only A / only B right "
          f"{only_a} / {only_b}, sign test p = {stats.mcnemar(only_a, only_b):.3g}")


if __name__ == "__main__":
    main()
