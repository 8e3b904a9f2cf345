"""Issue 14's copy levers: generic calculations on a listed set of numbers, in the base corpus and in SFT.

The default SFT model's first step on `ood_range` (integers 21-60) takes an operand that is not in the
prompt in 355 of 500 answers: it learned the train puzzles' range 1-20 rather than copying; on
`ood_components` (5 integers) its first bracket lists three integers left, never four (no train answer lists
more). Two kinds of items practise those copies without being a puzzle (no target, no search):

- `picks` (session 26): an operand picked from a list by a rule, no list in the answer:

      Subtract the largest of 27, 30, 46, 60 from -11.   ->   -11-60=-71
      Divide 84 by the number of 5, 12, 9 that divides it.   ->   84/12=7

- `lists` (session 30): one to three named operands taken from a list of 1-7 numbers, each step followed by
  the sorted numbers left, as the puzzle traces write them (`[..]`), so lists of any length are written:

      Start at 90. With 4, 27, 30, 46, 58: subtract 27, then multiply by 4.
          ->   90-27=63 [4 30 46 58], 63*4=252 [30 46 58]

Values come from `arithmetic.operand` (0-20 half the time, else 2 or 3 digits, one in five negative), the
distribution of the base corpus, not the test range. This script pre-trains a `local` base as the base
stage does (`base.build`) on its corpus plus `--picks N` items of `--kind`; `benchmarks/learning_probe.py
--picks W --kind K` replays W x the train puzzles of them in fine-tuning. Nothing under data/ or models/ is
touched.

    python benchmarks/pick_probe.py --picks 25000 --out /tmp/s26/base-pick
    python benchmarks/learning_probe.py --base /tmp/s26/base-pick --picks 0.1 --set seed=7 --sft max_steps=600
    python benchmarks/pick_probe.py --kind lists --picks 25000 --out /tmp/s30/base-lists
"""
from __future__ import annotations

import argparse
import json
import random
import types

from base_arithmetic import base_params  # benchmarks/ is on sys.path when a script here runs

from mathtune import arithmetic, base, models, sft

CRITERIA = ("largest", "smallest", "first", "last")
PHRASES = {"+": "Add the {crit} of {numbers} to {a}.", "-": "Subtract the {crit} of {numbers} from {a}.",
           "*": "Multiply {a} by the {crit} of {numbers}."}


def pick_item(idx: int, seed: int) -> dict:
    """Pick `idx`: an operand chosen from 2-5 listed integers by a rule, then one operation `a op x=c`."""
    rng = random.Random(f"{seed}:pick:{idx}")
    numbers, size = [], rng.randint(2, 5)
    while len(numbers) < size:
        v = arithmetic.operand(rng)
        if v not in numbers:
            numbers.append(v)
    listed = ", ".join(map(str, numbers))
    op = rng.choice("+-*/")
    if op == "/":  # the rule is the value itself: the one listed number that divides a
        for _ in range(100):  # a list such as 2, -2 has no such a: then it is an addition
            x, k = rng.choice(numbers), arithmetic.operand(rng)
            a = x * k
            if x and abs(a) <= arithmetic.MAX_PRODUCT and [n for n in numbers if n and a % n == 0] == [x]:
                return record(idx, f"Divide {a} by the number of {listed} that divides it.", f"{a}/{x}={k}", k)
        op = "+"
    crit = rng.choice(CRITERIA)
    x = {"largest": max(numbers), "smallest": min(numbers), "first": numbers[0], "last": numbers[-1]}[crit]
    while True:
        a = arithmetic.operand(rng)
        if op != "*" or abs(a * x) <= arithmetic.MAX_PRODUCT:
            break
    c = a + x if op == "+" else a - x if op == "-" else a * x
    return record(idx, PHRASES[op].format(crit=crit, numbers=listed, a=a), f"{a}{op}{x}={c}", c)


def record(idx: int, prompt: str, completion: str, answer: int, kind: str = "pick") -> dict:
    return {"id": f"{kind}/{idx}", "source": "arithmetic", "task": "calc", "prompt": prompt,
            "completion": completion, "answer": answer}


def picks(size: int, seed: int, kind: str = "picks") -> list[dict]:
    # the list items live in src since session 39 (`sft.lists`, `sft.mix.lists`); ids and texts as they were here
    return [pick_item(i, seed) for i in range(size)] if kind == "picks" else sft.lists(size, seed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--picks", type=int, required=True, help="items added to the base stage's corpus")
    ap.add_argument("--kind", choices=("picks", "lists"), default="picks", help="which items (see above)")
    ap.add_argument("--set", nargs="*", default=[], help="base params, e.g. max_steps=480")
    ap.add_argument("--out", required=True, help="folder for the built base")
    args = ap.parse_args()
    params = base_params(args.set)
    cfg = types.SimpleNamespace(**params)
    items = base.corpus_items(cfg) + picks(args.picks, cfg.seed, args.kind)
    random.Random(cfg.seed).shuffle(items)  # picks spread over the corpus, not packed at its end
    for it in items[:3]:
        print(it["prompt"], "->", it["completion"])
    metrics = base.build(cfg, items, args.out)
    model, tok = models.load_model(args.out), models.load_tokenizer(args.out)
    print("ROW", json.dumps({"params": params, "picks": args.picks, "kind": args.kind, **metrics,
                             **base.arithmetic_exact(model, tok, arithmetic.probe(300, cfg.seed))}))


if __name__ == "__main__":
    main()
