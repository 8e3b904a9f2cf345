"""Which DPO settings make the SFT policy better? DPO variants scored on held-out puzzles, paired with SFT.

Never the test sets: the validation items are fresh in-domain puzzles from the puzzles stage's own
generator (split "validation"), none of them a train or test puzzle, so no DPO question either. Each
variant is params.yaml's `dpo:` block with `key=value` overrides; it runs the stage's own code
(dpo.questions, dpo.sample, dpo.make_pairs, dpo.train) from `--start` (default models/mining, the
policy the dpo stage starts from; sessions 6-10 used models/sft), `rounds` rounds as the stage runs them,
into a scratch folder, and each round's policy is scored greedy by the one checker on the same items as
that start (reported as `sft`) and, with `--reference`, as another model (e.g. models/sft): both
pass@1 with 95 % Wilson intervals and the exact McNemar p-value (stats.paired). Samples are cached
(in the scratch folder) per sampling setting, so variants that differ only in training reuse them.
Nothing under data/ or models/ is touched. The README's "DPO settings" table is this script's output.

    python benchmarks/dpo_probe.py --val 500 "" "learning_rate=1e-5" "questions_puzzles=1024 max_steps=128"
    python benchmarks/dpo_probe.py --fresh "learning_rate=1e-5"   # DPO questions: fresh puzzles, not train ones
    python benchmarks/dpo_probe.py --val 1000 --reference models/sft "rounds=3"   # scores rounds 1, 2 and 3
    python benchmarks/dpo_probe.py --val 1000 --val-skip 1000 ...   # 1,000 other puzzles: confirms a choice

The sample cache is keyed by the sampling params and a hash of the start policy's weights (session 17: a
cache drawn by an older policy was silently reused before).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

from dpo_sampling import mixed_by_source  # benchmarks/ is on sys.path when a script here runs
from learning_probe import typed

from mathtune import checker, config, dpo, generation, gsm8k, io, mining, models, protocol, puzzles, stats

SAMPLING = ("seed", "questions_gsm8k", "questions_puzzles", "k", "temperature", "top_p", "batch_size", "greedy",
            "fresh_rounds")


def validation(size: int, taken: set | None = None) -> list[dict]:
    """`size` fresh in-domain puzzles (the puzzles stage's generator and params, split name "validation"),
    none of them a train or test puzzle: the same items for every variant and every run.

    N is stratified as the test set draws it (uniform over train_n_min..train_n_max): most 3-integer
    puzzles are already in the 100k train set, so skipping those alone left 81 of 500 with N = 3.
    `taken` (default: train and test keys) grows by the items drawn.
    """
    return fresh("validation", size, puzzles.test_keys() | train_keys() if taken is None else taken)


def train_keys(items: list[dict] | None = None) -> set:
    """(sorted integers, target) of every train puzzle; `items`: the train records, where already read."""
    return mining.keys(io.read_jsonl(io.path("data/puzzles/train.jsonl")) if items is None else items)


def fresh(name: str, size: int, taken: set) -> list[dict]:
    """`size` puzzles of split `name` from the stage's generator, N stratified, none in `taken` (which grows)."""
    cfg = config.load("puzzles")
    split = puzzles.Split(name, size, cfg.train_n_min, cfg.train_n_max, cfg.value_min, cfg.value_max)
    sizes = range(cfg.train_n_min, cfg.train_n_max + 1)
    quota = {n: size // len(sizes) + (i < size % len(sizes)) for i, n in enumerate(sizes)}
    out, start = [], 0
    while len(out) < size:
        for key, line in puzzles._chunk((split, cfg.ops, cfg.bound, cfg.trace, cfg.seed, start, start + size)):
            if key not in taken and quota[len(key[0])] > 0:
                taken.add(key)
                quota[len(key[0])] -= 1
                out.append(json.loads(line))
        start += size
    return out


def fingerprint(folder: str) -> str:
    """A short hash of a model folder's weights: cached samples belong to the policy that drew them."""
    h = hashlib.sha256()
    for f in sorted(Path(folder).glob("*.safetensors")):
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def greedy(folder: str, items: list[dict]) -> list[bool]:
    model = models.load_merged(models.LOCAL, adapter=folder)
    outs, _ = generation.generate(model, models.load_tokenizer(models.LOCAL), [it["prompt"] for it in items],
                                  batch_size=64, max_new_tokens=protocol.MAX_NEW_TOKENS["puzzles"],
                                  stop=protocol.STOP["puzzles"], desc="validation")
    return [checker.score(it, o) for it, o in zip(items, outs)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="+", help='dpo overrides per variant, e.g. "" or "beta=0.5 learning_rate=1e-5"')
    ap.add_argument("--val", type=int, default=500, help="fresh held-out puzzles to score (same items every run)")
    ap.add_argument("--val-skip", type=int, default=0,
                    help="first draw (and skip) this many validation puzzles: a confirmation set disjoint from --val M's")
    ap.add_argument("--out", default=None, help="scratch folder (default: a temp folder)")
    ap.add_argument("--fresh", action="store_true",
                    help="DPO questions: fresh puzzles (no train, test or validation puzzle), not train questions")
    ap.add_argument("--start", default="models/mining", help="the policy DPO starts from (the dpo stage: models/mining)")
    ap.add_argument("--reference", default=None,
                    help="another model scored on the same items and paired with every round (e.g. models/sft)")
    args = ap.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="dpo-probe-"))
    base = config.load("dpo")
    runs = [typed(base, v.split()) for v in args.variants]
    gsm8k_items = gsm8k.load(io.path("data/gsm8k/train.jsonl"))
    puzzle_items = io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target"))
    taken = puzzles.test_keys() | train_keys(puzzle_items)
    if args.val_skip:  # the items an earlier --val val_skip run scored: drawn into `taken`, never scored
        validation(args.val_skip, taken)
    val = validation(args.val, taken)
    print(json.dumps({"validation": len(val), "first": val[0]["prompt"]}), flush=True)
    start_policy = str(io.path(args.start))
    ok_sft = greedy(start_policy, val)
    ok_ref = greedy(str(io.path(args.reference)), val) if args.reference else None
    tok = models.load_tokenizer(models.LOCAL)
    results = {"sft": ok_sft} | ({"reference": ok_ref} if ok_ref is not None else {})
    print("START", json.dumps({"start": sum(ok_sft) / len(ok_sft),
                                "reference": None if ok_ref is None else sum(ok_ref) / len(ok_ref)}), flush=True)
    # variants differing only in training share a sample cache; each round's policy weights are part of its key
    for name, run in zip(args.variants, runs):
        pool = fresh("dpo", run.questions_puzzles * (run.rounds if run.fresh_rounds else 1), set(taken)) if args.fresh \
            else puzzle_items
        policy_folder, label, variant = start_policy, name or "default", work / f"variant{len(results)}"
        for rnd in range(1, run.rounds + 1):  # as dpo.stage: round r samples with round r-1's policy, trains on from it
            start = time.perf_counter()
            items = dpo.questions(run, gsm8k_items, pool, rnd)
            # round 1 asks the same questions with or without fresh_rounds: one cache serves both
            key = tuple(getattr(run, k) for k in SAMPLING if k != "fresh_rounds" or rnd > 1) + (rnd,)
            policy_key = (fingerprint(policy_folder),) + (("fresh",) if args.fresh else ())
            cached = work / ("samples-" + "-".join(map(str, key + policy_key)) + ".json")
            if not cached.is_file():
                policy = models.load_merged(models.LOCAL, adapter=policy_folder)
                io.write_json(cached, dpo.sample(run, policy, tok, items, seed=run.seed + 1000 * rnd)[:2])
            samples, cut = io.read_json(cached)
            pairs, counts = dpo.make_pairs(items, samples, run.gold_fallback, cut, greedy_first=run.greedy)
            folder = variant / f"round{rnd}"
            fit = dpo.train(run, pairs, folder, adapter=policy_folder)
            ok = greedy(str(folder), val)
            tag = label if run.rounds == 1 else f"{label} / round {rnd}"
            results[tag] = ok
            row = {"variant": tag, "pairs": counts["pairs"], "questions_mixed": counts["questions_mixed"],
                   "greedy_wrong_fixable": counts.get("greedy_wrong_fixable"),
                   "mixed_by_source": mixed_by_source(items, samples, cut),  # which questions pay for their sampling
                   "final_loss": fit["final_loss"], "final_reward_accuracy": fit["final_reward_accuracy"],
                   "minutes": round((time.perf_counter() - start) / 60, 1), "dpo_vs_start": stats.paired(ok, ok_sft)}
            if ok_ref is not None:
                row["dpo_vs_reference"] = stats.paired(ok, ok_ref)
            print("ROW", json.dumps(row), flush=True)
            policy_folder = str(folder)
            # after every round, so a run stopped early still leaves each scored policy's per-item bits
            io.write_json(work / "scores.json", {"items": [it["id"] for it in val], "results": results})


if __name__ == "__main__":
    main()
