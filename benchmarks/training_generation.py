"""Benchmarks: SFT throughput vs matmul peak and plain Trainer; batched vs per-prompt generation; no-op dvc repro.

Run on demand with `make bench` (after `dvc repro base`, or on a throwaway model with --tiny). Each line
prints a ratio against a baseline measured in the same run:
- torch fp32 matmul peak (GFLOP/s) on this machine, then SFT achieved FLOP/s = 6 x params x tokens/s
  as a fraction of it, and SFT tokens/s against plain transformers `Trainer` on the same model and data
  (full fine-tuning, the same batches);
- the project's batched generation against one-prompt-at-a-time `generate`, in tokens/s;
- `dvc repro` with nothing to do, in seconds.
"""
from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import types
from pathlib import Path

import torch
from datasets import Dataset
from transformers import DataCollatorForLanguageModeling, Trainer, TrainingArguments

from mathtune import generation, io, models, puzzles, tables, tuning


def matmul_peak(n: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def records(n: int) -> list[dict]:
    import random
    split = puzzles.Split("bench", n, 3, 4, 1, 20)
    return [puzzles.record("bench", i, *puzzles.generate(random.Random(i), split, "+-*/")) for i in range(n)]


def sft_rate(base: str, steps: int) -> tuple[float, int]:
    cfg = types.SimpleNamespace(seed=0, load_in_4bit=False, lora_r=32, lora_alpha=64, lora_dropout=0.0,
                                learning_rate=1e-3, max_steps=steps, batch_size=16, max_length=256, save_steps=10**9)
    with tempfile.TemporaryDirectory() as d:
        m = tuning.train_sft(cfg, records(steps * 16), Path(d) / "adapter", base=base, stage="bench")
    return m["tokens_per_s"], models.load_model(base).num_parameters()


def trainer_rate(base: str, steps: int) -> float:
    """Plain transformers Trainer, full fine-tuning, on the same prompts + completions."""
    tok, model = models.load_tokenizer(base), models.load_model(base, trainable=True)
    tok.padding_side = "right"
    texts = [models.chat_prompt(tok, r["prompt"]) + r["completion"] + tok.eos_token for r in records(steps * 16)]
    data = Dataset.from_dict(tok(texts, add_special_tokens=False, truncation=True, max_length=256))
    with tempfile.TemporaryDirectory() as d:
        args = TrainingArguments(output_dir=d, max_steps=steps, per_device_train_batch_size=16, report_to=[],
                                 use_cpu=True, save_strategy="no", disable_tqdm=True)
        trainer = Trainer(model=model, args=args, train_dataset=data,
                          data_collator=DataCollatorForLanguageModeling(tok, mlm=False))
        start = time.perf_counter()
        trainer.train()
    tokens = sum(len(x) for x in data["input_ids"][:steps * 16])
    return tokens / (time.perf_counter() - start)


def generation_rates(base: str, n: int) -> tuple[float, float]:
    tok, model = models.load_tokenizer(base), models.load_model(base)
    prompts = [r["prompt"] for r in records(n)]
    _, batched = generation.generate(model, tok, prompts, max_new_tokens=32, batch_size=n, stop=["\n"])
    start, tokens = time.perf_counter(), 0
    for p in prompts:  # the baseline: plain generate, one prompt at a time
        enc = tok(models.chat_prompt(tok, p), return_tensors="pt", add_special_tokens=False)
        out = model.generate(**enc, max_new_tokens=32, do_sample=False, pad_token_id=tok.pad_token_id)
        tokens += out.shape[1] - enc["input_ids"].shape[1]
    return batched["tokens_per_s"], tokens / (time.perf_counter() - start)


def noop_repro_seconds() -> float:
    start = time.perf_counter()
    out = subprocess.run([tables.dvc_cmd(), "repro", "--dry"], cwd=io.root(), capture_output=True, text=True)
    return time.perf_counter() - start if out.returncode == 0 else float("nan")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="local", help="`local` (models/base) or a path / hub id")
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    peak = matmul_peak()
    print(f"torch fp32 matmul peak: {peak:.1f} GFLOP/s ({torch.get_num_threads()} threads)")
    rate, params = sft_rate(args.model, args.steps)
    achieved = 6 * params * rate / 1e9
    print(f"SFT (TRL + LoRA): {rate:,.0f} tokens/s, {achieved:.1f} GFLOP/s = {achieved / peak:.1%} of matmul peak "
          f"(goal >= 30%); params {params:,}")
    plain = trainer_rate(args.model, args.steps)
    print(f"plain Trainer full fine-tuning: {plain:,.0f} tokens/s; SFT / Trainer = {rate / plain:.2f}x")
    batched, single = generation_rates(args.model, 32)
    print(f"generation: batched {batched:,.0f} tokens/s vs one prompt at a time {single:,.0f} tokens/s = "
          f"{batched / single:.1f}x (goal >= 5x)")
    print(f"dvc repro --dry with nothing to do: {noop_repro_seconds():.2f} s (goal <= 5 s)")
