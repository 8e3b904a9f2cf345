"""Does the project's GSM8K number (evaluate.gsm8k_protocol: lm-eval) equal lm-eval's own CLI on the same items?

Runs harness.gsm8k (the evaluate stage's code, lm_eval.simple_evaluate) and then the `lm_eval` command
line on the same task file, model, few-shot count and first N test items, and compares the two
scores and every item's raw generation. Offline; SmolLM2-135M-Instruct from `make instructor`.

    python benchmarks/lm_eval_equality.py [--model models/instructor] [--limit 10] [--num_fewshot 5]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mathtune import harness, io

TRAIN, TEST = "data/gsm8k/train.jsonl", "data/gsm8k/test_first300.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/instructor")
    ap.add_argument("--limit", type=int, default=10)
    ap.add_argument("--num_fewshot", type=int, default=5)
    ap.add_argument("--batch_size", type=int, default=16)
    args = ap.parse_args()
    start = time.perf_counter()
    ours, rows = harness.gsm8k(args.model, None, TRAIN, TEST, limit=args.limit, num_fewshot=args.num_fewshot,
                               batch_size=args.batch_size)
    ours_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        task = harness.task_dir(Path(tmp) / "task", TRAIN, TEST)
        cmd = [str(Path(sys.executable).parent / "lm_eval"), "--model", "hf", "--model_args", f"pretrained={io.path(args.model)}",
               "--tasks", harness.TASK, "--include_path", str(task), "--num_fewshot", str(args.num_fewshot),
               "--limit", str(args.limit), "--batch_size", str(args.batch_size), "--device", "cpu",
               "--log_samples", "--output_path", str(Path(tmp) / "out")]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env={**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"},
                       capture_output=True, text=True)
        cli_s = time.perf_counter() - start
        results = json.loads(next((Path(tmp) / "out").rglob("results_*.json")).read_text())["results"][harness.TASK]
        samples = [json.loads(x) for f in (Path(tmp) / "out").rglob(f"samples_{harness.TASK}_*.jsonl")
                   for x in f.read_text().splitlines()]
    cli = {name: results[f"exact_match,{f}"] for name, f in harness.FILTERS.items()}
    cli_outputs = {s["doc_id"]: s["resps"][0][0] for s in samples if s["filter"] == harness.FILTERS["strict"]}
    same_outputs = sum(cli_outputs[i] == r["output"] for i, r in enumerate(rows))
    print(json.dumps({"model": args.model, "items": args.limit, "num_fewshot": args.num_fewshot,
                      "project": {k: ours[k] for k in harness.FILTERS}, "project_seconds": round(ours_s, 1),
                      "cli": cli, "cli_seconds": round(cli_s, 1),
                      "identical_generations": f"{same_outputs}/{len(rows)}",
                      "equal": cli == {k: ours[k] for k in harness.FILTERS} and same_outputs == len(rows)}, indent=1))


if __name__ == "__main__":
    main()
