"""Does the embedded base learn the arithmetic the puzzles are made of? Probe accuracy over pre-training steps.

Builds the `local` base as the base stage does (params.yaml's `base:` block, overridden with --set),
into a scratch folder, and scores greedy exact match on 300 facts of 1-20 with + - *
(`arithmetic.probe`) at the listed steps, with 95 % Wilson intervals. Nothing under models/ is touched;
`--out DIR` keeps the built base there, so `benchmarks/learning_probe.py --base DIR` can fine-tune it.

    python benchmarks/base_arithmetic.py --set max_steps=1200 --at 240 480 800 1200
    python benchmarks/base_arithmetic.py --set seed=1 --at 480 --out /tmp/probe/base-seed1
    python benchmarks/base_arithmetic.py --fourier --at 480 --out /tmp/probe/base-fourier   # numbers as Fourier features
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
import types

import yaml
from transformers import TrainerCallback

from mathtune import arithmetic, base, io

PERIODS = (2, 3, 5, 7, 10, 20, 50, 100, 200, 500, 1000)


def fourier_numbers(model, tokenizer, scale: float = 0.3) -> int:
    """Give each number token (0-999) an embedding whose first dimensions are cos and sin of 2 pi v / T for the
    periods T above (FoNE, Zhou et al. 2025: numbers as Fourier features), the rest left as initialised; the
    embedding is tied, so the LM head reads numbers the same way. Returns the number of tokens set."""
    import math
    import torch
    emb = model.get_input_embeddings().weight
    done = 0
    with torch.no_grad():
        for text, i in tokenizer.get_vocab().items():
            if text.isascii() and text.isdigit() and str(int(text)) == text and int(text) < 1000:
                v = int(text)
                feats = [f(2 * math.pi * v / t) for t in PERIODS for f in (math.cos, math.sin)]
                emb[i, :len(feats)] = torch.tensor(feats) * scale
                done += 1
    return done


class Probe(TrainerCallback):
    def __init__(self, tokenizer, at: set[int]):
        self.tokenizer, self.at, self.rows, self.start = tokenizer, at, [], time.perf_counter()

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step in self.at:
            row = {"step": state.global_step, "minutes": round((time.perf_counter() - self.start) / 60, 1),
                   **base.arithmetic_exact(model, self.tokenizer, arithmetic.probe(300, 0))}
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
    ap.add_argument("--fourier", action="store_true",
                    help="number tokens start from Fourier features of their value (fourier_numbers), then train")
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
    if args.fourier:
        class FourierLlama(base.LlamaForCausalLM):  # the stage's own model, number rows set after init
            def __init__(self, config):
                super().__init__(config)
                print("fourier number tokens:", fourier_numbers(self, tokenizer), flush=True)

        base.LlamaForCausalLM = FourierLlama
    with tempfile.TemporaryDirectory() as tmp:
        metrics = base.pretrain(cfg, tokenizer, base.corpus(tokenizer, items), args.out or f"{tmp}/base")
    print(json.dumps({"params": params, "final_loss": metrics["final_loss"], "seconds": metrics["seconds"],
                      "probe": probe.rows}))


if __name__ == "__main__":
    main()
