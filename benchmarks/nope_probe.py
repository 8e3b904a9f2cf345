"""Issue 14's length-generalisation lever from the literature: the embedded base without position encoding.

Kazemnejad et al. 2023 ("The Impact of Positional Encoding on Length Generalization in Transformers")
found decoder-only models with no position encoding (NoPE: the causal mask alone tells order) extrapolate
to longer inputs better than RoPE; Llama 4 interleaves NoPE layers with RoPE ones for the same reason.
`ood_components` asks for that: the unwind trace's first bracket lists four unused integers for N = 5, and
no train answer (N = 3-4) lists more than three.

This script builds a `local` base as the base stage does (`base.build`, params.yaml's `base:` block with
--set overrides) with RoPE switched off:
- in every layer (`--layers all`, the default) through a standard config field: linear RoPE scaling by 1e6
  divides every position by 1e6, so no rotation reaches 3e-4 rad inside 256 tokens; saved in config.json,
  so the fine-tuned model loads the same way anywhere;
- in some layers (`--layers 1 3`): config.json records `nope_layers`, and `install()` (called here and by
  `benchmarks/learning_probe.py`) makes those layers' attention skip the rotation in this process.
Then `benchmarks/learning_probe.py --base <out>` fine-tunes it. Nothing under data/ or models/ is touched.

    python benchmarks/nope_probe.py --out /tmp/s29/base-nope
    python benchmarks/nope_probe.py --layers 1 3 --out /tmp/s29/base-nope13
    python benchmarks/learning_probe.py --base /tmp/s29/base-nope --set seed=7 --out /tmp/s29/sft-nope
    python benchmarks/nope_probe.py --count /tmp/s29/sft-nope/scores.json /tmp/s29/sft-ctrl/scores.json

`--count` reads probes' scores.json: per test set, how many steps the answers write and how many integers the
first step's bracket lists (both read as the verifier reads answers, `answers.steps`; for N = 5 the unwind
trace's gold lists four), and the paired pass@1 of the first probe against each other.
"""
from __future__ import annotations

import argparse
import collections
import functools
import json
import types

import torch
from base_arithmetic import base_params  # benchmarks/ is on sys.path when a script here runs
from teacher_forcing import first_list_size
from transformers.models.llama import modeling_llama

from mathtune import answers, arithmetic, base, io, models, stats

NOPE = {"rope_type": "linear", "factor": 1e6, "rope_theta": 10000.0}


def install() -> None:
    """Attention in a config's `nope_layers` gets cos 1, sin 0: no rotation. A no-op for other models."""
    forward = modeling_llama.LlamaAttention.forward
    if getattr(forward, "nope", False):
        return

    def nope_forward(self, hidden_states, position_embeddings=None, *args, **kwargs):
        if self.layer_idx in (getattr(self.config, "nope_layers", None) or ()):
            cos, sin = position_embeddings
            position_embeddings = (torch.ones_like(cos), torch.zeros_like(sin))
        return forward(self, hidden_states, position_embeddings, *args, **kwargs)

    nope_forward.nope = True
    modeling_llama.LlamaAttention.forward = nope_forward


def count(paths: list[str]) -> None:
    """Steps written and the first bracket's size per set, and pass@1 paired against the first probe."""
    runs = [io.read_json(p)["items"] for p in paths]
    for name in ("in_domain", "ood_range", "ood_components"):
        for path, items in zip(paths, runs):
            outs = items[f"{name}/outputs"]
            read = [answers.steps(o) for o in outs]  # the verifier's reading: a malformed part is a part
            first = [first_list_size(r) for r in read]
            row = {"steps": dict(sorted(collections.Counter(map(len, read)).items())),
                   "first_bracket": dict(sorted(collections.Counter(first).items())),
                   "vs_first": stats.paired(runs[0][name], items[name])}
            print(name, path, json.dumps(row))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", nargs="*", default=[], help="base params, e.g. max_steps=480")
    ap.add_argument("--layers", nargs="*", default=["all"], help="`all`, or the layer indices without RoPE")
    ap.add_argument("--out", help="folder for the built base")
    ap.add_argument("--count", nargs="+", metavar="SCORES", help="probes' scores.json to count; nothing is built")
    args = ap.parse_args()
    if args.count:
        return count(args.count)
    if not args.out:
        ap.error("--out is required to build a base")
    params = base_params(args.set)
    cfg = types.SimpleNamespace(**params)
    extra = {"rope_parameters": NOPE} if args.layers == ["all"] else {"nope_layers": [int(i) for i in args.layers]}
    install()
    base.LlamaConfig = functools.partial(base.LlamaConfig, **extra)  # this process only
    metrics = base.build(cfg, base.corpus_items(cfg), args.out)
    model, tok = models.load_model(args.out), models.load_tokenizer(args.out)
    if args.layers == ["all"]:
        assert float(model.model.rotary_emb.inv_freq.max()) <= 1e-6, "config.json lost the NoPE setting"
    else:
        assert model.config.nope_layers == extra["nope_layers"], "config.json lost nope_layers"
    metrics.pop("loss_curve")
    print("ROW", json.dumps({"params": params, **extra, **metrics,
                             **base.arithmetic_exact(model, tok, arithmetic.probe(300, cfg.seed))}))


if __name__ == "__main__":
    main()
