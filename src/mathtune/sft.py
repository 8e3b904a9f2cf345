"""The sft stage: (Q)LoRA supervised fine-tuning with TRL's SFTTrainer on a weighted data mix.

The mix draws from six sources, each scaled by its `sft.mix.<source>` weight (0 drops it, 0.5 keeps
a seeded half, 2 repeats it twice): GSM8K train CoT, puzzle train, the dual stage's IRSP and IR
instances, the mining stage's targeted data, and replayed generic arithmetic (`arithmetic.corpus`,
the base's pre-training calculations, as many as there are train puzzles, drawn with the sft seed). So each arm of the dual-tuning ablation is one
`dvc exp run -S sft.mix.irsp=0 ...`. Records are prompt/completion pairs, so TRL puts the loss on
completion tokens only. On CUDA `sft.load_in_4bit` loads the base in nf4 (QLoRA, bf16 compute).
Checkpoints go to checkpoints/sft and a killed run resumes from the last one.
Run with `dvc repro sft`.
"""
from __future__ import annotations

import random

from mathtune import io, models, tuning

SOURCES = ("gsm8k", "puzzles", "irsp", "ir", "mining", "arithmetic")  # new sources go last: same draws for the rest


def build_mix(cfg, sources: dict[str, list[dict]]) -> tuple[list[dict], dict]:
    """Records of each source scaled by its mix weight, shuffled with the stage seed; and counts."""
    rng = random.Random(cfg.seed)
    mix, counts = [], {}
    for name in SOURCES:
        weight, items = getattr(cfg, f"mix_{name}"), sources.get(name, [])
        if weight < 0:
            raise ValueError(f"params sft.mix.{name}: must be >= 0, got {weight}")
        whole, part = int(weight), weight - int(weight)
        chosen = items * whole + rng.sample(items, round(part * len(items)))
        counts[f"mix/{name}"] = len(chosen)
        mix += chosen
    if not mix:
        raise ValueError("the SFT mix is empty: every sft.mix weight is 0 or its source has no data")
    rng.shuffle(mix)
    return mix, counts


def train(cfg, records: list[dict], out_dir, base: str = models.LOCAL) -> dict:
    """LoRA-train `base` on records (resumable from checkpoints/sft); save the adapter to out_dir."""
    return tuning.train_sft(cfg, records, out_dir, base, stage="sft")


def stage(cfg) -> dict:
    """`dvc repro sft`: models/sft (LoRA adapter) from the mix of all training sources."""
    from mathtune import arithmetic, gsm8k
    sources = {"gsm8k": gsm8k.load(io.path("data/gsm8k/train.jsonl")),
               "puzzles": io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("prompt", "completion")),
               "irsp": io.read_jsonl(io.path("data/dual/irsp.jsonl"), required=("prompt", "completion")),
               "ir": io.read_jsonl(io.path("data/dual/ir.jsonl"), required=("prompt", "completion")),
               "mining": io.read_jsonl(io.path("data/mining/targeted.jsonl"), required=("prompt", "completion"))}
    # replay: a pretrained LM keeps its arithmetic through fine-tuning; the embedded base has little to keep
    sources["arithmetic"] = arithmetic.corpus(len(sources["puzzles"]), cfg.seed) if cfg.mix_arithmetic else []
    records, counts = build_mix(cfg, sources)
    return {**counts, **train(cfg, records, io.path("models/sft"))}
