"""Does the embedded base learn the arithmetic the puzzles are made of? Probe accuracy over pre-training steps.

Builds the `local` base as the base stage does (params.yaml's `base:` block, overridden with --set),
into a scratch folder, and scores greedy exact match on 300 facts of 1-20 with + - *
(`arithmetic.probe`) and on 300 sums and differences of 21-60 (`arithmetic_21_60/`, what `ood_range` puzzles
are made of) at the listed steps, with 95 % Wilson intervals. Nothing under models/ is touched;
`--out DIR` keeps the built base there, so `benchmarks/learning_probe.py --base DIR` can fine-tune it.

    python benchmarks/base_arithmetic.py --set max_steps=1200 --at 240 480 800 1200
    python benchmarks/base_arithmetic.py --set seed=1 --at 480 --out /tmp/probe/base-seed1
    python benchmarks/base_arithmetic.py --set number_embedding=fourier --at 480 --out /tmp/probe/base-fourier
    python benchmarks/base_arithmetic.py --set arithmetic_small=100 --at 240 480 --out /tmp/probe/base-small100
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import types

import yaml
from transformers import TrainerCallback

from mathtune import base, io


class Probe(TrainerCallback):
    def __init__(self, tokenizer, at: set[int]):
        self.tokenizer, self.at, self.rows, self.start = tokenizer, at, [], time.perf_counter()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step in self.at:
            row = {"step": state.global_step, "minutes": round((time.perf_counter() - self.start) / 60, 1),
                   **base.arithmetic_probes(model, self.tokenizer, 0)}
            print(json.dumps(row), flush=True)
            self.rows.append(row)


def base_params(overrides: list[str]) -> dict:
    """params.yaml's `base:` block with `key=value` overrides, each cast to the default's type."""
    params = yaml.safe_load(open(io.path("params.yaml")))["base"]
    for kv in overrides:
        k, v = kv.split("=", 1)
        params[k] = type(params[k])(v)
    return params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", nargs="*", default=[], help="base params, e.g. max_steps=1200 batch_size=8")
    ap.add_argument("--at", nargs="*", type=int, default=[240, 480, 800, 1200])
    ap.add_argument("--out", default=None, help="keep the built base in this folder (default: a temp folder, removed)")
    args = ap.parse_args()
    params = base_params(args.set)
    cfg = types.SimpleNamespace(**params)
    items = base.corpus_items(cfg)
    tokenizer = base.corpus_tokenizer(items, cfg.vocab_size, cfg.number_digits)
    probe = Probe(tokenizer, set(args.at))
    original = base.Trainer

    class ProbedTrainer(original):  # the stage's own pretrain(), with the probe as a callback
        def __init__(self, *a, **kw):
            super().__init__(*a, callbacks=[probe], **kw)

    base.Trainer = ProbedTrainer
    with tempfile.TemporaryDirectory() as tmp:
        metrics = base.pretrain(cfg, tokenizer, base.corpus(tokenizer, items), args.out or f"{tmp}/base")
    print(json.dumps({"params": params, "final_loss": metrics["final_loss"], "seconds": metrics["seconds"],
                      "probe": probe.rows}))


if __name__ == "__main__":
    main()
