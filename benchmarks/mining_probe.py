"""How much mined data does it take to fix what was mined? Mining's continued fine-tuning, varied, on held-out items.

The mining stage's round 1 (data/mining: its bad cases, error types and kept items) is replayed from
`--start` (default models/sft, the model round 1 mines) with the stage's own training code
(mining.round_cfg, tuning.train_sft) and these knobs per variant, as `key=value` overrides:

- `learning_rate`, `round_max_steps`: params.yaml's `mining:` fields;
- `share`: the fraction of the round's examples that are kept items, the kept items repeated as needed
  (the stage's round_records puts each kept item in once: 152 of 1,600 examples in the session-20 default).

Every variant with kept items is paired with its control: the same steps and rate on replayed train puzzles
alone (`mining.per_type: 0`'s recipe, trained once per setting). Two validation sets, never the test sets:
fresh puzzles of round 1's error types, drawn as heldout.jsonl draws them but with another seed and none
of them a train, test, kept or heldout puzzle (`--per-type` each); and fresh in-domain puzzles
(dpo_probe.validation). Greedy, scored by the one checker; both pass@1 with Wilson intervals and the
exact McNemar p-value (stats.paired). Nothing under data/ or models/ is touched.

    python benchmarks/mining_probe.py "" "share=0.5" "learning_rate=1e-4 round_max_steps=400 share=0.5"
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import types
from dataclasses import replace
from pathlib import Path

from dpo_probe import greedy, train_keys, validation  # benchmarks/ is on sys.path when a script here runs

from mathtune import config, io, mining, puzzles, stats, tuning


def round1(train: list[dict]) -> tuple[list[dict], list[str], list[dict]]:
    """Round 1's bad puzzle cases (with their items and types), its type names and its kept items."""
    by_id = {r["id"]: r for r in train}
    cases = [{"item": by_id[c["id"]], "type": c["type"]}
             for c in io.read_jsonl(io.path("data/mining/bad_cases.jsonl")) if c["round"] == 1 and c["id"] in by_id]
    with open(io.path("data/mining/error_types.csv")) as f:
        names = [r["name"] for r in csv.DictReader(f) if r["round"] == "1"]
    kept = [r for r in io.read_jsonl(io.path("data/mining/targeted.jsonl")) if r.get("round") == 1]
    return cases, names, kept


def records(cfg, share: float | None, kept: list[dict], train: list[dict]) -> list[dict]:
    """The round's examples: the stage's round_records, or `share` of them kept items (repeated), the rest replay."""
    if share is None:
        return mining.round_records(cfg, 1, kept, train)
    rng = random.Random(f"{cfg.seed}:replay:1")
    size = cfg.round_max_steps * 16
    n_kept = round(share * size) if kept else 0
    out = [kept[i % len(kept)] for i in range(n_kept)] + rng.sample(train, size - n_kept)
    rng.shuffle(out)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help='overrides per variant, e.g. "" or "share=0.5 learning_rate=1e-4"')
    ap.add_argument("--per-type", type=int, default=200, help="fresh validation puzzles per round-1 error type")
    ap.add_argument("--val", type=int, default=500, help="fresh in-domain validation puzzles")
    ap.add_argument("--start", default="models/sft")
    ap.add_argument("--out", default=None, help="scratch folder (default: a temp folder)")
    args = ap.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="mining-probe-"))
    base = config.load("mining")
    train = io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target"))
    cases, names, kept = round1(train)
    kept_puzzles = [r for r in kept if r["source"] == "puzzles"]
    key = lambda r: (tuple(r["numbers"]), r["target"])  # noqa: E731
    taken = puzzles.test_keys() | train_keys(train) | {key(r) for r in kept_puzzles} | \
        {key(r) for r in io.read_jsonl(io.path("data/mining/heldout.jsonl"))}
    typed_val = mining.heldout(types.SimpleNamespace(seed=base.seed + 1000, heldout_per_type=args.per_type),
                               cases, names, puzzles.spec(), taken)
    val = validation(args.val, taken)
    sets = {"mined_types": typed_val, "in_domain": val}
    print(json.dumps({"cases": len(cases), "kept": len(kept), "mined_types": len(typed_val), "in_domain": len(val),
                      "types": {t: sum(r["type"] == t for r in typed_val) for t in range(len(names))}}), flush=True)
    start = str(io.path(args.start))
    scored = {"start": {s: greedy(start, items) for s, items in sets.items()}}

    def train_and_score(name: str, cfg, share: float | None, pool: list[dict]) -> dict:
        if name not in scored:
            t0 = time.perf_counter()
            folder = work / f"variant{len(scored)}"
            fit = tuning.train_sft(mining.round_cfg(cfg, 1, start), records(cfg, share, pool, train), folder,
                                   stage="mining-probe", start=start)
            scored[name] = {s: greedy(str(folder), items) for s, items in sets.items()}
            print("TRAINED", json.dumps({"variant": name, "train_loss": fit["train_loss"],
                                         "minutes": round((time.perf_counter() - t0) / 60, 1)}), flush=True)
        return scored[name]

    for variant in args.variants:
        pairs = dict(p.split("=", 1) for p in variant.split())
        share = float(pairs.pop("share")) if "share" in pairs else None
        cfg = replace(base, **{k: type(getattr(base, k))(v) for k, v in pairs.items()})
        control = f"control lr={cfg.learning_rate} steps={cfg.round_max_steps}"
        with_kept = train_and_score(variant or "default", cfg, share, kept)
        without = train_and_score(control, cfg, 0.0, [])
        for s in sets:
            print("ROW", json.dumps({"variant": variant or "default", "set": s,
                                     "with_vs_without": stats.paired(with_kept[s], without[s]),
                                     "with_vs_start": stats.paired(with_kept[s], scored["start"][s])}), flush=True)
    io.write_json(work / "scores.json", {"items": {s: [it["id"] for it in items] for s, items in sets.items()},
                                         "results": scored})


if __name__ == "__main__":
    main()
