"""Does TRL SFT learn the puzzle as fast per example as a plain loop? One short run, loss per step.

The README's diagnosis rows: a from-scratch model of the base's shape (or the base itself) is trained
with the sft stage's own tuning.sft_trainer on fresh state-trace puzzles, batch 64, lr 1e-3, 100 steps
(6,400 puzzles), with TrainingArguments fields overridden from the command line, e.g. the length-grouped
sampler the sft stage used before (`train_sampling_strategy=group_by_length`) or a constant schedule.

    python benchmarks/sft_batching.py train_sampling_strategy=group_by_length
    python benchmarks/sft_batching.py train_sampling_strategy=random lr_scheduler_type=constant
"""
from __future__ import annotations

import random
import sys
import tempfile
import types

import torch
from transformers import AutoModelForCausalLM, LlamaForCausalLM

from mathtune import models, puzzles, tuning


def main() -> None:
    overrides = [a.split("=", 1) for a in sys.argv[1:] if "=" in a]
    torch.manual_seed(0)
    base = tempfile.mkdtemp(prefix="scratch-model-")
    LlamaForCausalLM(AutoModelForCausalLM.from_pretrained(models.BASE_DIR).config).save_pretrained(base)
    models.load_tokenizer(models.LOCAL).save_pretrained(base)
    split, rng = puzzles.Split("train", 0, 3, 4, 1, 20), random.Random(1)
    records = []
    for i in range(6400):
        numbers, target, solution = puzzles.generate(rng, split, "+-*/", 100, "state")
        records.append(puzzles.record("train", i, numbers, target, solution))
    cfg = types.SimpleNamespace(seed=0, load_in_4bit=False, lora_r=0, lora_alpha=64, lora_dropout=0.05,
                                learning_rate=1e-3, max_steps=100, batch_size=64, max_length=384,
                                gradient_checkpointing="false", save_steps=1000)
    trainer = tuning.sft_trainer(cfg, records, base=base, stage="probe")
    for key, value in overrides:
        setattr(trainer.args, key, value)
    trainer.train()
    curve = [(h["step"], round(h["loss"], 3)) for h in trainer.state.log_history if "loss" in h]
    last = [loss for _, loss in curve[-8:]]
    print("RESULT", dict(overrides), "loss over the last 8 logs (steps 86-100):", round(sum(last) / len(last), 3), curve[-8:])


if __name__ == "__main__":
    main()
