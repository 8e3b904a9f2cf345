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

from mathtune import io, tables


def rows(run: str, model: str, test_set: str) -> list[dict] | None:
    """One model's per-item results on one set of a run, as tables' pairing reads them ({id, correct or strict});
    a record without ids numbers its items 0, 1, ... in data/predictions order. None where the run has none."""
    path = Path(run)
    if path.is_dir():
        f = path / model / f"{test_set}.jsonl"
        return io.read_jsonl(f) if f.is_file() else None
    return tables.record_rows(io.read_json(path), model, test_set)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_a", help="predictions folder or per-item record (JSON)")
    ap.add_argument("run_b", help="predictions folder or per-item record (JSON)")
    args = ap.parse_args()
    print(f"A = {args.run_a}, B = {args.run_b}\n")
    print("\n".join(tables.PAIRED_HEAD))
    for model in tables.MODELS:
        for t in tables.ALL_SETS:
            a, b = rows(args.run_a, model, t), rows(args.run_b, model, t)
            if a is None or b is None:
                continue
            if isinstance(a[0]["id"], int) or isinstance(b[0]["id"], int):
                # a record without ids lists items in data/predictions order: only the count can be checked
                a, b = ([dict(r, id=i) for i, r in enumerate(x)] for x in (a, b))
            print(tables.pair_line(model, t, a, b) or f"| {model} | {t} | different items | | | | | |")


if __name__ == "__main__":
    main()
