"""How much mined data does it take to fix what was mined? Mining's continued fine-tuning, varied, on held-out items.

The mining stage's round 1 (data/mining: its bad cases, error types and kept items) is replayed from
`--start` (default models/sft, the model round 1 mines) with the stage's own training code
(mining.round_cfg, tuning.train_sft) and these knobs per variant, as `key=value` overrides:

- `learning_rate`, `round_max_steps`, `kept_share`: params.yaml's `mining:` fields (`kept_share`: the
  fraction of the round's examples that are kept items, repeated as needed; before session 22 the stage
  put each kept item in once, and this probe's `share=` key set that fraction);
- `hard=1`: the kept items are not the stage's but this probe's own: candidates synthesised per round-1
  bad puzzle case with mining.synth_puzzle(hard=True) (its N and value range, search no easier than the
  case's: mining.good_first_moves no larger), then kept by the stage's one-shot filter on `--start`.
  Since session 22 the stage does this itself (`mining.match_hardness`).

Every variant with kept items is paired with its control: the same steps and rate on replayed train puzzles
alone (`mining.per_type: 0`'s recipe, trained once per setting). Two validation sets, never the test sets:
fresh puzzles of round 1's error types, drawn by mining.heldout with another seed and without hardness
matching, none of them a train, test, kept or heldout puzzle (`--per-type` each); and fresh in-domain puzzles
(dpo_probe.validation); with any `hard=1` variant, a third: fresh puzzles of the types as hard as
their bad cases (`hard_types`). Greedy, scored by the one checker; both pass@1 with Wilson intervals and the
exact McNemar p-value (stats.paired). Nothing under data/ or models/ is touched.

    python benchmarks/mining_probe.py "" "kept_share=0.1" "learning_rate=1e-4 round_max_steps=400"
    python benchmarks/mining_probe.py "hard=1" "hard=1 kept_share=0.1"
    python benchmarks/mining_probe.py --val-seed 1 --per-type 600 "hard=1"   # confirm on fresh items

Session 21's numbers (docs/sessions.md) were measured at commit 13474ba, whose `share=0.5` is `kept_share=0.5` here.
"""
from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
import types
from dataclasses import replace
from pathlib import Path

from dpo_probe import greedy, train_keys, validation  # benchmarks/ is on sys.path when a script here runs

from mathtune import config, io, mining, models, puzzles, stats, tuning


def round1(train: list[dict]) -> tuple[list[dict], list[str], list[dict]]:
    """Round 1's bad puzzle cases (with their items and types; GSM8K cases left out), its type names and its
    kept items."""
    by_id = {r["id"]: r for r in train}
    cases = [{"item": by_id[c["id"]], "type": c["type"]}
             for c in io.read_jsonl(io.path("data/mining/bad_cases.jsonl")) if c["round"] == 1 and c["id"] in by_id]
    with open(io.path("data/mining/error_types.csv")) as f:
        names = [r["name"] for r in csv.DictReader(f) if r["round"] == "1"]
    kept = [r for r in io.read_jsonl(io.path("data/mining/targeted.jsonl")) if r.get("round") == 1]
    return cases, names, kept


def hard_items(cases: list[dict], num_types: int, per_type: int, tag: str, taken: set) -> list[dict]:
    """`per_type` hard puzzles per round-1 type (its puzzle bad cases in turn), none in `taken` (which grows)."""
    return [{**rec, "id": f"probe/{tag}/{t}/{j}", "type": t, "case": case["item"]["id"]}
            for t, j, case, rec in mining.per_type_puzzles(cases, num_types, per_type, tag, puzzles.spec(), taken,
                                                           hard=True)]


def one_shot_filter(folder: str, candidates: list[dict], cases: dict) -> list[dict]:
    """The stage's filter (mining.one_shot_filter) on the model in `folder`: the candidates it keeps."""
    model = models.load_merged(models.LOCAL, adapter=folder)
    kept = mining.one_shot_filter(model, models.load_tokenizer(models.LOCAL),
                                  [(c, cases[c["case"]]) for c in candidates], batch_size=64)
    return [c for c, k in zip(candidates, kept) if k]


def plan(base, variant: str):
    """(mining cfg, hard) of a variant string; an unknown key is named."""
    pairs = dict(p.split("=", 1) for p in variant.split())
    hard = pairs.pop("hard", "0") == "1"
    unknown = sorted(set(pairs) - set(vars(base)))
    if unknown:
        raise SystemExit(f"variant {variant!r}: unknown mining param(s) {unknown}; known: {sorted(vars(base))}, hard")
    return replace(base, **{k: type(getattr(base, k))(v) for k, v in pairs.items()}), hard


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help='overrides per variant, e.g. "" or "kept_share=0.1 learning_rate=1e-4"')
    ap.add_argument("--per-type", type=int, default=200, help="fresh validation puzzles per round-1 error type")
    ap.add_argument("--val", type=int, default=500, help="fresh in-domain validation puzzles")
    ap.add_argument("--candidates", type=int, default=None, help="hard candidates per type (default: mining.per_type)")
    ap.add_argument("--val-seed", type=int, default=0, help="added to the validation draws' seeds: a fresh set to confirm on")
    ap.add_argument("--start", default="models/sft")
    ap.add_argument("--out", default=None, help="scratch folder (default: a temp folder)")
    args = ap.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="mining-probe-"))
    base = config.load("mining")
    plans = [plan(base, v) for v in args.variants]  # a typo fails here, before any generation
    train = io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target"))
    cases, names, kept = round1(train)
    taken = puzzles.test_keys() | train_keys(train) | mining.keys(kept) | \
        mining.keys(io.read_jsonl(io.path("data/mining/heldout.jsonl")))
    typed_val = mining.heldout(types.SimpleNamespace(seed=base.seed + 1000 + args.val_seed, heldout_per_type=args.per_type,
                                                     match_hardness=False),
                               cases, names, puzzles.spec(), taken)
    val = validation(args.val, taken)
    sets = {"mined_types": typed_val, "in_domain": val}
    start = str(io.path(args.start))
    hard_kept = []
    if any(hard for _, hard in plans):
        sets["hard_types"] = hard_items(cases, len(names), args.per_type, f"{base.seed + 2000 + args.val_seed}:val", taken)
        candidates = hard_items(cases, len(names), args.candidates or base.per_type, f"{base.seed}:1:hard", taken)
        hard_kept = one_shot_filter(start, candidates, {c["item"]["id"]: c for c in cases})
        print(json.dumps({"hard_candidates": len(candidates), "hard_kept": len(hard_kept),
                          "hard_types": len(sets["hard_types"])}), flush=True)
        if not hard_kept:
            print("WARNING: no hard candidate passed the filter: the hard=1 variants train as their controls", flush=True)
    print(json.dumps({"cases": len(cases), "kept": len(kept), "mined_types": len(typed_val), "in_domain": len(val),
                      "types": {t: sum(r["type"] == t for r in typed_val) for t in range(len(names))}}), flush=True)
    scored = {"start": {s: greedy(start, items) for s, items in sets.items()}}

    def train_and_score(name: str, cfg, pool: list[dict]) -> dict:
        if name not in scored:
            t0 = time.perf_counter()
            folder = work / f"variant{len(scored)}"
            fit = tuning.train_sft(mining.round_cfg(cfg, 1, start), mining.round_records(cfg, 1, pool, train), folder,
                                   stage="mining-probe", start=start)
            scored[name] = {s: greedy(str(folder), items) for s, items in sets.items()}
            print("TRAINED", json.dumps({"variant": name, "train_loss": fit["train_loss"],
                                         "minutes": round((time.perf_counter() - t0) / 60, 1)}), flush=True)
        return scored[name]

    for variant, (cfg, hard) in zip(args.variants, plans):
        pool = hard_kept if hard else kept
        control = f"control lr={cfg.learning_rate} steps={cfg.round_max_steps}"
        with_kept = train_and_score(variant or "default", cfg, pool)
        without = train_and_score(control, cfg, [])
        for s in sets:
            print("ROW", json.dumps({"variant": variant or "default", "set": s,
                                     "with_vs_without": stats.paired(with_kept[s], without[s]),
                                     "with_vs_start": stats.paired(with_kept[s], scored["start"][s])}), flush=True)
    io.write_json(work / "scores.json", {"items": {s: [it["id"] for it in items] for s, items in sets.items()},
                                         "results": scored})


if __name__ == "__main__":
    main()
