"""GPU check: QLoRA SFT steps, DPO steps and a batched generation on the packaged real model, on CUDA.

Runs the stages' own code (tuning.sft_trainer, dpo.make_trainer, generation.generate) with nf4 4-bit
weights, bf16 (or fp16) compute and gradient checkpointing, on SmolLM2-135M-Instruct as `make
instructor` builds it (or --model DIR), and prints one JSON line per check: tokens/s, peak GPU memory,
and whether the adapter's weights changed (LoRA B starts at zero: a trained adapter has B != 0 and
DPO moves it further). Without CUDA it says so and exits 2: nothing here has a CPU meaning.

    make instructor && python benchmarks/gpu_check.py [--model models/instructor] [--steps 30] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
import types
from pathlib import Path

import torch

from mathtune import dpo, generation, io, models, protocol, puzzles, tuning


def lora_b(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().float().cpu().clone() for n, p in model.named_parameters() if "lora_B" in n}


def changed(before: dict, after: dict) -> dict:
    moved = [n for n in before if not torch.equal(before[n], after[n])]
    return {"lora_tensors": len(before), "lora_tensors_changed": len(moved)}


def records(n: int, seed: int) -> list[dict]:
    split, rng = puzzles.Split("train", n, 3, 4, 1, 20), random.Random(seed)
    out = []
    for i in range(n):
        numbers, target, solution = puzzles.generate(rng, split, "+-*/", 100, "state")
        out.append(puzzles.record("train", i, numbers, target, solution))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/instructor")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--out", default=None, help="folder for gpu_check.json (default: print only)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device here; nothing was run (README, GPU recipe)")
        raise SystemExit(2)
    report = {"device": torch.cuda.get_device_name(0), "model": args.model, "dtype": str(models.dtype()),
              "env": models.environment(0)}
    data = records(args.steps * 16, seed=0)
    work = Path(tempfile.mkdtemp(prefix="gpu-check-"))

    cfg = types.SimpleNamespace(seed=0, load_in_4bit=True, lora_r=16, lora_alpha=32, lora_dropout=0.05,
                                learning_rate=2e-4, max_steps=args.steps, batch_size=16, max_length=256,
                                save_steps=10**6, gradient_checkpointing="auto")
    torch.cuda.reset_peak_memory_stats()
    trainer = tuning.sft_trainer(cfg, data, base=args.model, stage="gpu-check")
    before = lora_b(trainer.model)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    report["sft"] = {"quantization": tuning.quantization(cfg), "steps": args.steps, "seconds": round(seconds, 1),
                     "tokens_per_s": round(trainer.state.num_input_tokens_seen / seconds, 1),
                     "gradient_checkpointing": trainer.args.gradient_checkpointing,
                     "peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                     "final_loss": trainer.state.log_history[-1].get("train_loss"),
                     **changed(before, lora_b(trainer.model))}
    tuning.save_adapter(trainer.model, trainer.processing_class, work / "sft")
    print(json.dumps({"sft": report["sft"]}), flush=True)
    del trainer

    pairs = [{"id": r["id"], "prompt": r["prompt"], "chosen": r["completion"],
              "rejected": r["completion"].replace("=", "=1", 1)} for r in data[:args.steps * 8]]
    dcfg = types.SimpleNamespace(seed=0, load_in_4bit=True, beta=0.1, loss_type="sigmoid", learning_rate=5e-5,
                                 max_steps=args.steps, per_device_train_batch_size=8, save_steps=10**6,
                                 gradient_checkpointing="auto")
    torch.cuda.reset_peak_memory_stats()
    trainer = dpo.make_trainer(dcfg, pairs, adapter=str(work / "sft"), base=args.model)
    before = lora_b(trainer.model)
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    report["dpo"] = {"steps": args.steps, "seconds": round(seconds, 1),
                     "pairs_per_s": round(args.steps * 8 / seconds, 1),
                     "peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                     "reward_accuracy": trainer.state.log_history[-2].get("rewards/accuracies"),
                     **changed({n: v for n, v in before.items() if ".default." in n},
                               {n: v for n, v in lora_b(trainer.model).items() if ".default." in n})}
    print(json.dumps({"dpo": report["dpo"]}), flush=True)
    del trainer

    torch.cuda.reset_peak_memory_stats()
    tok = models.load_tokenizer(args.model)
    model = models.load_model(args.model, adapter=str(work / "sft"), load_in_4bit=True)
    prompts = [r["prompt"] for r in data[:256]]
    outs, st = generation.generate(model, tok, prompts, batch_size=64, max_new_tokens=protocol.MAX_NEW_TOKENS["puzzles"],
                                   stop=protocol.STOP["puzzles"], desc="gpu-check/generate")
    report["generate"] = {"prompts": len(prompts), "batch_size": 64, "tokens_per_s": st["tokens_per_s"],
                          "peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
                          "example": outs[0]}
    print(json.dumps({"generate": report["generate"]}), flush=True)
    if args.out:
        io.write_json(Path(args.out) / "gpu_check.json", report)


if __name__ == "__main__":
    main()
