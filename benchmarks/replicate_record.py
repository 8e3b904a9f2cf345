"""Keep a whole run from another machine (or another clone) as a git-tracked replicate record: its metrics
folder and the per-item right/wrong bits of its predictions folder, with ids, in the shape of an experiment's
per-item record (tables.record_rows reads both), so `benchmarks/runs_pair.py` pairs it with any other run
later, without that run's DVC cache. Runs of another machine class stay out of the experiment tables (those
pair each experiment with its own baseline commit, whose run may come from another machine): they are kept
here instead, as session 27's was. Reads files only; seconds.

    python benchmarks/replicate_record.py PREDICTIONS_DIR METRICS_DIR OUT.json --what "..." --commit REV \
        [--wall-seconds S]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from mathtune import io, tables


def bits(predictions: Path) -> tuple[dict, dict]:
    """ids[set] and correct[model][set] of every model and set in a predictions folder (tables.per_item_bits)."""
    def read(model: str, test_set: str) -> list[dict] | None:
        f = predictions / model / f"{test_set}.jsonl"
        return io.read_jsonl(f, required=("id", tables.result_field(test_set))) if f.is_file() else None
    ids, correct = tables.per_item_bits(read)
    if not correct:
        raise FileNotFoundError(f"{predictions}: no <model>/<set>.jsonl predictions")
    return ids, correct


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predictions", type=Path, help="a run's data/predictions folder (or a copy)")
    ap.add_argument("metrics", type=Path, help="the same run's metrics folder (or a copy)")
    ap.add_argument("out", type=Path)
    ap.add_argument("--what", required=True, help="what ran, where: machine, command, params changed")
    ap.add_argument("--commit", required=True, help="the code and lock commit the run started from")
    ap.add_argument("--wall-seconds", type=float)
    args = ap.parse_args()
    ids, correct = bits(args.predictions)
    metrics = {f.stem: io.read_json(f) for f in sorted(args.metrics.glob("*.json"))}
    record = {"what": args.what, "commit": args.commit, "wall_seconds": args.wall_seconds, "metrics": metrics,
              "ids": ids, "correct": correct,
              "correct_format": "one character per item, in the order of ids[set]: 1 right (GSM8K: strict), 0 wrong"}
    io.write_text(args.out, json.dumps(record, sort_keys=True) + "\n")
    print(f"{args.out}: {sum(len(b) for m in correct.values() for b in m.values())} item results, "
          f"{len(correct)} models, sets {sorted(ids)}")


if __name__ == "__main__":
    main()
