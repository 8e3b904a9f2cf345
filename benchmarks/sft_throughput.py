"""Seconds per SFT step with TRL's fused LM head scoring every position (its CPU default) against
completion positions only (`tuning.compact_lm_head`, what the stages use), in one training run.

The sft stage's own `tuning.sft_trainer` and params.yaml `sft:` block (full fine-tuning, batch 64) on
`--base` (default models/base), fresh default puzzles (steps trace). The two arms alternate step by
step in the same run (TRL reads the switch at every forward), so a noisy neighbour on the machine
slows both alike; the first steps are warm-up. Prints the median s/step per arm and the ratio. About 2 minutes on 2 cores.

    python benchmarks/sft_throughput.py [--base models/base] [--steps 60]
"""
from __future__ import annotations

import argparse
import random
import shutil
import statistics
import time

import trl.trainer.utils as trl_utils
from transformers import TrainerCallback

from learning_probe import typed  # benchmarks/ is on sys.path when a script here runs
from mathtune import config, models, puzzles, tuning

WARMUP = 5


class Alternate(TrainerCallback):
    """Even steps: every position (TRL off Triton); odd steps: completion positions only."""
    def __init__(self):
        self.start, self.times = 0.0, {"every": [], "compact": []}

    def on_step_begin(self, args, state, control, **kwargs):
        compact = state.global_step % 2 == 1
        trl_utils._use_triton = lambda device: compact
        self.start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step > WARMUP:  # global_step counts the step just done
            self.times["compact" if (state.global_step - 1) % 2 else "every"].append(time.perf_counter() - self.start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=str(models.BASE_DIR))
    ap.add_argument("--steps", type=int, default=60)
    args = ap.parse_args()
    split, rng = puzzles.Split("train", 0, 3, 4, 1, 20), random.Random(1)
    records = [puzzles.record("train", i, *puzzles.generate(rng, split, "+-*/", 100, "steps"))
               for i in range(64 * args.steps)]
    cfg = typed(config.load("sft"), [f"max_steps={args.steps}", f"save_steps={10 ** 6}"])  # the stage's own params
    trainer = tuning.sft_trainer(cfg, records, base=args.base, stage="bench")
    clock = Alternate()
    trainer.add_callback(clock)
    trainer.train()
    shutil.rmtree(models.checkpoint_dir("bench"), ignore_errors=True)
    every, only = (statistics.median(clock.times[k]) for k in ("every", "compact"))
    print(f"RESULT every position {every:.3f} s/step, completion positions only {only:.3f} s/step, ratio "
          f"{only / every:.2f} (medians of {len(clock.times['every'])} and {len(clock.times['compact'])} steps of "
          f"{cfg.batch_size})")


if __name__ == "__main__":
    main()
