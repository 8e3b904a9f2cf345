"""Does the run's mining beat its replay control on more fresh items of its own error types?

The evaluate stage's `mined_types` set (data/mining/heldout.jsonl, `mining.heldout_per_type` per round-1
error type) is one draw; an effect of ~0.01 needs a few thousand paired items to show. This script draws
`--per-type` more per type exactly as the stage draws them (mining.heldout: the bad case's N and value range,
hardness matched under `mining.match_hardness`), with another seed, none of them a train, test, kept or
held-out puzzle, and scores greedily, with the one checker: the workspace's models/mining and models/sft,
and the models/mining of `--control` (a DVC experiment of the same lock with `mining.per_type: 0`, read
from the DVC cache). Prints both pass@1 with Wilson intervals and the exact McNemar p-value (stats.paired).
Rows: all items, then each type. Nothing under data/ or models/ is touched. Minutes on 2 cores (greedy, batches of 64).

    python benchmarks/mined_confirm.py --control s22-mining-control --per-type 900 --val-seed 1
"""
from __future__ import annotations

import argparse
import json
import tempfile
import types

from dpo_probe import greedy, train_keys  # benchmarks/ is on sys.path when a script here runs
from mining_probe import round1

from mathtune import config, io, mining, puzzles, stats


def fetch(rev: str, path: str) -> str:
    """A DVC-tracked folder of experiment or commit `rev`, copied from the cache into a temp folder."""
    from dvc.api import DVCFileSystem
    dest = tempfile.mkdtemp(prefix="mined-confirm-")
    DVCFileSystem(str(io.root()), rev=rev).get(path, dest, recursive=True)  # lands as dest/<folder name>
    return f"{dest}/{path.rstrip('/').split('/')[-1]}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--control", required=True, help="DVC experiment or commit: the same run with mining.per_type: 0")
    ap.add_argument("--per-type", type=int, default=900, help="fresh puzzles per round-1 error type")
    ap.add_argument("--val-seed", type=int, default=1, help="added to the draw's seed: each value another fresh set")
    args = ap.parse_args()
    cfg = config.load("mining")
    train = io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target"))
    cases, names, _ = round1(train)  # all kept items of both rounds are left out below, not round 1's only
    taken = puzzles.test_keys() | train_keys(train) | mining.keys(io.read_jsonl(io.path("data/mining/targeted.jsonl"))) | \
        mining.keys(io.read_jsonl(io.path("data/mining/heldout.jsonl")))
    draw = types.SimpleNamespace(seed=cfg.seed + 3000 + args.val_seed, heldout_per_type=args.per_type,
                                 match_hardness=cfg.match_hardness)
    items = mining.heldout(draw, cases, names, puzzles.spec(), taken)
    print(json.dumps({"items": len(items), "types": {t: sum(r["type"] == t for r in items) for t in range(len(names))}}),
          flush=True)
    scored = {"mining": greedy(str(io.path("models/mining")), items),
              "control": greedy(fetch(args.control, "models/mining"), items),
              "sft": greedy(str(io.path("models/sft")), items)}
    for a, b in (("mining", "control"), ("mining", "sft"), ("control", "sft")):
        print("ROW", json.dumps({"models": f"{a} vs {b}", "type": "all", **stats.paired(scored[a], scored[b])}), flush=True)
        for t in range(len(names)):
            idx = [i for i, r in enumerate(items) if r["type"] == t]
            if idx:
                print("ROW", json.dumps({"models": f"{a} vs {b}", "type": f"{t}: {names[t]}",
                                          **stats.paired([scored[a][i] for i in idx], [scored[b][i] for i in idx])}))


if __name__ == "__main__":
    main()
