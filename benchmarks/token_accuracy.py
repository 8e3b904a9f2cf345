"""Which tokens of a puzzle answer does a fine-tuned model get wrong? Teacher-forced loss by token role.

Feeds each gold answer of a test set to the model after its chat-formatted prompt and reports, per
role of the answer's tokens, mean loss and argmax accuracy: operands (`op1`, `op2`) and operator
(`opchar`) are choices with several right answers; `res` (the result digits) and `state` (the numbers
left) are determined by what came before; `eq`, `sep` and `space` are format.

    python benchmarks/token_accuracy.py [--model models/sft] [--split in_domain] [--n 300]
"""
from __future__ import annotations

import argparse
import collections
import json

import torch

from mathtune import io, models


def roles(completion: str) -> list[str]:
    """The role of each character of a `state` or `steps` trace."""
    out, region = [], "op1"
    for ch in completion:
        if ch == "[":
            region = "state"
        elif ch in "],;":
            region = "sep"
        elif ch == "=":
            out.append("eq")
            region = "res"
            continue
        elif region == "sep" and ch != " ":
            region = "op1"
        elif region == "op1" and ch in "+-*/" and out and out[-1] == "op1":
            out.append("opchar")
            region = "op2"
            continue
        out.append(region)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/sft")
    ap.add_argument("--base", default=models.BASE_DIR)
    ap.add_argument("--split", default="in_domain")
    ap.add_argument("--n", type=int, default=300)
    args = ap.parse_args()
    tok = models.load_tokenizer(args.base)
    model = models.load_model(args.base, None if args.model == args.base else args.model).eval()
    rows = list(io.read_jsonl(io.path(f"data/puzzles/{args.split}.jsonl")))[:args.n]
    total = collections.defaultdict(lambda: [0.0, 0, 0])
    for r in rows:
        prompt = tok(models.chat_prompt(tok, r["prompt"]), add_special_tokens=False).input_ids
        enc = tok(r["completion"], add_special_tokens=False, return_offsets_mapping=True)
        ids = torch.tensor([prompt + enc.input_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0, :-1].float(), -1)
        role = roles(r["completion"])
        for k, (tid, (start, _)) in enumerate(zip(enc.input_ids, enc.offset_mapping)):
            lp = logp[len(prompt) + k - 1]
            name = "space" if tok.convert_ids_to_tokens(tid) == "\u0120" else role[start]
            total[name][0] -= lp[tid].item()
            total[name][1] += 1
            total[name][2] += int(lp.argmax().item() == tid)
    print(json.dumps({"model": args.model, "split": args.split, "items": len(rows),
                      **{k: {"tokens": n, "loss": round(l / n, 3), "argmax_acc": round(a / n, 3)}
                         for k, (l, n, a) in sorted(total.items())}}, indent=1))


if __name__ == "__main__":
    main()
