"""Does a randomised position offset change anything for this model? (issue 14's extrapolation levers)

The embedded model is a Llama: rotary position embeddings, whose attention scores depend on the
distance between two positions only. Shifting every position id of a sequence by the same offset (the
"randomised position offset" lever) should therefore leave its logits unchanged up to float rounding,
so training with such offsets cannot teach anything new. This measures it on a trained model and real
prompts: the largest logit change and how many greedy next-token choices flip, per offset.

    python benchmarks/position_offsets.py [--model models/sft] [--items 64] [--offsets 1 37 500]
"""
from __future__ import annotations

import argparse

import torch

from mathtune import io, models


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/sft", help="a stage's model folder")
    ap.add_argument("--items", type=int, default=64, help="in-domain test prompts, each with its gold answer")
    ap.add_argument("--offsets", type=int, nargs="+", default=[1, 37, 500])
    args = ap.parse_args()
    model = models.load_model(models.LOCAL, adapter=args.model)
    tok = models.load_tokenizer(models.LOCAL)
    items = io.read_jsonl(io.path("data/puzzles/in_domain.jsonl"))[:args.items]
    texts = [models.chat_prompt(tok, it["prompt"]) + it["completion"] for it in items]
    batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    mask = batch["attention_mask"].bool()
    # left or right padding alike: each row's positions count its own tokens from 0
    pos = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    print(f"## {args.model}: {len(items)} in-domain prompts + gold answers, {int(mask.sum())} tokens")
    print("| position offset | max abs logit change | largest logit | greedy next tokens changed |")
    print("|---|---|---|---|")
    with torch.no_grad():
        ref = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=pos).logits
        for off in args.offsets:
            got = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], position_ids=pos + off).logits
            diff = (got - ref).abs().amax(-1)[mask].max().item()
            flips = int((got.argmax(-1) != ref.argmax(-1))[mask].sum())
            print(f"| {off} | {diff:.2e} | {ref.abs().max().item():.1f} | {flips} of {int(mask.sum())} |")


if __name__ == "__main__":
    main()
