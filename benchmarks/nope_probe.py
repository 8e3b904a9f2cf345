"""Issue 14's length-generalisation lever from the literature: the embedded base without position encoding.

Kazemnejad et al. 2023 ("The Impact of Positional Encoding on Length Generalization in Transformers")
found decoder-only models with no position encoding (NoPE: the causal mask alone tells order) extrapolate
to longer inputs better than RoPE. `ood_components` asks for that: the unwind trace's first bracket lists
four unused integers for N = 5, and no train answer (N = 3-4) lists more than three.

This script builds a `local` base as the base stage does (`base.build`, params.yaml's `base:` block with
--set overrides) with RoPE switched off through a standard config field: linear RoPE scaling by 1e6
divides every position by 1e6, so no rotation reaches 3e-4 rad inside 256 tokens; the setting is saved in
config.json, so the fine-tuned model loads the same way. Then `benchmarks/learning_probe.py --base <out>`
fine-tunes it. Nothing under data/ or models/ is touched.

    python benchmarks/nope_probe.py --out /tmp/s29/base-nope
    python benchmarks/learning_probe.py --base /tmp/s29/base-nope --set seed=7 --out /tmp/s29/sft-nope
"""
from __future__ import annotations

import argparse
import functools
import json
import types

from base_arithmetic import base_params  # benchmarks/ is on sys.path when a script here runs

from mathtune import arithmetic, base, models

NOPE = {"rope_type": "linear", "factor": 1e6, "rope_theta": 10000.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", nargs="*", default=[], help="base params, e.g. max_steps=480")
    ap.add_argument("--out", required=True, help="folder for the built base")
    args = ap.parse_args()
    params = base_params(args.set)
    cfg = types.SimpleNamespace(**params)
    base.LlamaConfig = functools.partial(base.LlamaConfig, rope_parameters=NOPE)  # this process only
    metrics = base.build(cfg, base.corpus_items(cfg), args.out)
    model, tok = models.load_model(args.out), models.load_tokenizer(args.out)
    assert float(model.model.rotary_emb.inv_freq.max()) <= 1e-6, "config.json lost the NoPE setting"
    metrics.pop("loss_curve")
    print("ROW", json.dumps({"params": params, "rope_parameters": NOPE, **metrics,
                             **base.arithmetic_exact(model, tok, arithmetic.probe(300, cfg.seed))}))


if __name__ == "__main__":
    main()
