"""Does scoring with weights cast to bf16 move pass@1, and how much faster is it on this CPU? (session 45)

Scores a trained model (default `models/sft`, on the `local` base) on the first --n items of each puzzle test set,
greedy, with the stages' own generation (protocol prompts, stop strings, token budgets, batch 64) and the one checker:
first with fp32 weights, then with the same weights cast to bf16. Prints each arm's seconds and right answers, whether
the fp32 arm repeats the evaluate stage's predictions (data/predictions/<name>/), and the paired table (exact
McNemar) per set. Reads data/puzzles and data/predictions; writes nothing. Under a minute for the default on 2 cores.

    python benchmarks/bf16_scoring.py [--adapter models/sft --name sft] [--n 500]
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from mathtune import evaluate, generation, io, models, stats

SETS = ("in_domain", "ood_range", "ood_components")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adapter", default="models/sft", help="a fine-tuned folder on the `local` base")
    ap.add_argument("--name", default="sft", help="its folder under data/predictions (the fp32 check)")
    ap.add_argument("--n", type=int, default=500)
    args = ap.parse_args()
    tokenizer = models.load_tokenizer(models.LOCAL)
    model = models.load_merged(models.LOCAL, adapter=args.adapter)
    sets = {name: io.read_jsonl(f"data/puzzles/{name}.jsonl")[:args.n] for name in SETS}
    right = {}
    for arm in ("fp32", "bf16"):
        model = model.to(torch.bfloat16 if arm == "bf16" else torch.float32)
        start, right[arm] = time.perf_counter(), {}
        for name, items in sets.items():
            outs, _ = generation.generate_per_source(model, tokenizer, items, batch_size=64, desc=f"{arm}/{name}")
            right[arm][name] = [row["correct"] for row in evaluate.score_set(name, items, outs)[1]]
        print(f"RESULT {arm}: {time.perf_counter() - start:.1f} s, right "
              + ", ".join(f"{name} {sum(ok)}" for name, ok in right[arm].items()), flush=True)
    for name in SETS:
        stage = Path(f"data/predictions/{args.name}/{name}.jsonl")
        fp32, bf16 = right["fp32"][name], right["bf16"][name]
        same = ([r["correct"] for r in io.read_jsonl(stage)][:args.n] == fp32) if stage.is_file() else None
        print(name, "fp32 arm repeats the stage:", same, json.dumps(stats.paired(fp32, bf16)))


if __name__ == "__main__":
    main()
