"""How many DPO questions get a mixed group (a right and a wrong sample)? k and temperature on the SFT policy.

arXiv 2405.00402's pairs need both a correct and an incorrect sample of one question; the dpo stage's
metric `mixed_share` counts such questions. This samples the dpo stage's own questions (params.yaml's
`dpo:` block, same seed) with the SFT policy in models/sft, once per `k:temperature` setting, with
the stage's code (dpo.sample, dpo.make_pairs), and prints one JSON line per setting. It trains
nothing and writes nothing. The first setting should reproduce the stage's own metrics when it
equals params.yaml's k and temperature.

    python benchmarks/dpo_sampling.py 8:1.0 8:0.7 16:1.0
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import replace

from mathtune import checker, config, dpo, gsm8k, io, models


def mixed_by_source(items: list[dict], samples: list[list[str]], cut: list[list[bool]]) -> dict[str, int]:
    """Questions with a mixed group per source, by the stage's own count (a sample the token limit cut
    is not a wrong one)."""
    out = {}
    for source in ("gsm8k", "puzzles"):
        idx = [i for i, it in enumerate(items) if it["source"] == source]
        out[source] = dpo.make_pairs([items[i] for i in idx], [samples[i] for i in idx], False,
                                     [cut[i] for i in idx])[1]["questions_mixed"]
    return out


def main() -> None:
    cfg = config.load("dpo")
    items = dpo.questions(cfg, gsm8k.load(io.path("data/gsm8k/train.jsonl")),
                          io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target")))
    tok = models.load_tokenizer(models.LOCAL)
    policy = models.load_merged(models.LOCAL, adapter="models/sft")
    for setting in sys.argv[1:] or [f"{cfg.k}:{cfg.temperature}"]:
        k, temperature = setting.split(":")
        run = replace(cfg, k=int(k), temperature=float(temperature))
        start = time.perf_counter()
        samples, cut, sampled = dpo.sample(run, policy, tok, items, seed=cfg.seed + 1000)  # round 1's seed
        pairs, counts = dpo.make_pairs(items, samples, run.gold_fallback, cut)
        right = sum(checker.score(it, o) for it, outs in zip(items, samples) for o in outs)
        by_source = mixed_by_source(items, samples, cut)
        print(json.dumps({"k": run.k, "temperature": run.temperature, "top_p": run.top_p,
                          "sample_accuracy": round(right / (len(items) * run.k), 4), **counts,
                          "mixed_by_source": by_source, **sampled,
                          "seconds": round(time.perf_counter() - start, 1)}), flush=True)


if __name__ == "__main__":
    main()
