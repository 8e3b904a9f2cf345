"""Two whole runs paired model by model on the same test items: pass@1 with Wilson 95 % intervals and the exact
McNemar p on the items where one run is right (stats.paired). Each run is a predictions folder
(`data/predictions`, or a copy of one) or a git-tracked record of per-item bits: a replicate
(`reports/replicates/*.json`, ids in the order of data/predictions) or an experiment's
(`reports/experiments/predictions/<rev>.json`, with ids). Sets whose items differ (`mined_types` follows each
run's own error types) are named and skipped. Reads files only; seconds. Session 32 paired the Fourier default
against the learned one with it (docs/sessions.md "Session 32").

    python benchmarks/runs_pair.py reports/replicates/s27-amd-epyc.json data/predictions
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mathtune import io, stats, tables


def bits(run: str, model: str, test_set: str) -> tuple[list[str] | None, list[bool]] | None:
    """(ids or None, right/wrong per item) of one model on one set of a run; None where the run has none."""
    path = Path(run)
    if path.is_dir():
        f = path / model / f"{test_set}.jsonl"
        if not f.is_file():
            return None
        rows = io.read_jsonl(f)
        return [r["id"] for r in rows], [bool(r[tables._field(test_set)]) for r in rows]
    rec = io.read_json(path)
    b = rec["correct"].get(model, {}).get(test_set)
    return None if b is None else (rec.get("ids", {}).get(test_set), [c == "1" for c in b])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a", help="predictions folder or per-item record (JSON)")
    ap.add_argument("run_b", help="predictions folder or per-item record (JSON)")
    args = ap.parse_args()
    print(f"A = {args.run_a}, B = {args.run_b}\n")
    print("| model | set | n | A | B | only A right | only B right | McNemar p |")
    print("|---|---|---|---|---|---|---|---|")
    for model in tables.MODELS:
        for t in tables.ALL_SETS:
            a, b = bits(args.run_a, model, t), bits(args.run_b, model, t)
            if a is None or b is None:
                continue
            # a record without ids lists items in data/predictions order: only the count can be checked
            if len(a[1]) != len(b[1]) or (a[0] is not None and b[0] is not None and a[0] != b[0]):
                print(f"| {model} | {t} | different items | | | | | |")
                continue
            p = stats.paired(a[1], b[1])
            print(f"| {model} | {t} | {p['n']} | {p['a']:.3f} [{p['a_ci'][0]:.3f}, {p['a_ci'][1]:.3f}] | "
                  f"{p['b']:.3f} [{p['b_ci'][0]:.3f}, {p['b_ci'][1]:.3f}] | {p['only_a']} | {p['only_b']} | {p['p']:.2g} |")


if __name__ == "__main__":
    main()
