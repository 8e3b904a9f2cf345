"""The default SFT stage on CUDA, then the evaluate stage's scoring of base and SFT: the CPU default re-run on a GPU.

Runs `sft.stage` with params.yaml's `sft:` block as it stands (full fine-tuning of the embedded base,
bf16 on a GPU that has it, gradient checkpointing `auto` = on with CUDA), then
`evaluate.evaluate_model` for `base` and `sft` on the evaluate stage's test sets (GSM8K and the three
puzzle sets at `evaluate.puzzles_limit`). Needs what the sft stage reads (data/puzzles, data/dual,
data/gsm8k, models/base) and writes models/sft as the stage does. Prints one JSON line per step and
writes gpu_default_sft.json (+ predictions/<model>/<set>.jsonl) under --out: compare them with the CPU
run's data/predictions by `benchmarks/runs_pair.py` (same items, paired). Without CUDA it exits 2.

    python benchmarks/gpu_default_sft.py --out DIR
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from mathtune import config, evaluate, io, models, sft


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("gpu_default_sft: no CUDA device here; nothing was run")
        raise SystemExit(2)
    out = Path(args.out)
    report = {"device": torch.cuda.get_device_name(0), "dtype": str(models.dtype()), "env": models.environment(0)}
    cfg = config.load("sft")
    metrics = sft.stage(cfg)  # its metrics carry the training seconds and peak memory (tuning.train_sft)
    report["sft"] = {"max_steps": cfg.max_steps, "batch_size": cfg.batch_size,
                     **{k: v for k, v in metrics.items() if k != "loss_curve"},
                     "loss_curve_tail": metrics.get("loss_curve", [])[-3:]}
    print(json.dumps({"sft": report["sft"]}, default=str), flush=True)

    ecfg = config.load("evaluate")
    sets = evaluate.test_sets(ecfg)
    for name, adapter in (("base", None), ("sft", "models/sft")):
        start = time.perf_counter()
        m = evaluate.evaluate_model(ecfg, name, adapter, sets, out / "predictions")
        report[name] = {"seconds": round(time.perf_counter() - start, 1), **m}
        print(json.dumps({name: report[name]}, default=str), flush=True)
    io.write_json(out / "gpu_default_sft.json", report)


if __name__ == "__main__":
    main()
