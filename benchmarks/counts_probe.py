"""Counted lists for issue 14's `ood_components` wall: every list says how many numbers it holds.

Five integers get three steps because the model's first list after a step holds three integers (never four in a
train answer; sessions 29-43). Here each list starts with its count and the prompt states how many integers
are given: `Make 7 from 1, 9, 12, 15, 18.` becomes `Make 7 from 5 numbers: 1, 9, 12, 15, 18.` and its unwind
answer `9-7=2 [4: 1 12 15 18], 2/1=2 [3: 12 15 18], 2*15=30 [2: 12 18], 12+18=30 [0:]`. The count is one
decrement of the last count (the prompt's for the first list), a step the base's arithmetic does at any N, and
the list items of the SFT mix (sft.list_item, up to `sft.list_steps` steps over 1-7 numbers) are rewritten the
same way (`With 5 numbers: 4, 27, 30, 46, 58; subtract 27, ...` -> `90-27=63 [4: 4 30 46 58]`), so a list of
any length written after its count is practised outside the puzzle (a position-coupling-style hint: the count
ties what to write to a number, not to a place). Scoring strips the counts (`strip`) and hands the answer to the
one checker with the original item, so a counted answer is judged exactly as a plain one.
Used by learning_probe.py's `--counts`. Run alone, it asks a counted probe's model for held-out counted list items
of 5-7 numbers (`sft.lists(400, 99, 7)`, another seed than any SFT mix) and prints how often the first count and
the numbers listed after it are right: whether the count is learned outside the puzzle.

    python benchmarks/learning_probe.py --base models/base --set seed=7 --eval 300 --counts --sft list_steps=7 \
        --out /tmp/c
    python benchmarks/counts_probe.py --base models/base --model /tmp/c/model
"""
from __future__ import annotations

import argparse
import re
from collections import Counter

from mathtune import generation, models, sft

_LIST = re.compile(r"\[([-0-9 ]*)\]")
_COUNT = re.compile(r"\[\s*[0-9]+\s*:\s*")
_GIVEN = re.compile(r"^(Make -?[0-9]+ from |Start at -?[0-9]+\. With )([-0-9, ]+)([.:])")


def _counted(match: re.Match) -> str:
    numbers = match.group(1).split()
    return f"[{len(numbers)}: {' '.join(numbers)}]" if numbers else "[0:]"


def count(item: dict) -> dict:
    """`item` (a puzzle or sft.list_item record) with the count of given numbers in its prompt and on each list."""
    given = _GIVEN.match(item["prompt"])
    if given is None:
        raise ValueError(f"{item['id']}: prompt not a puzzle or list item: {item['prompt']!r}")
    head, numbers, end = given.groups()
    n = len(numbers.split(","))
    prompt = f"{head}{n} numbers: {numbers}{';' if end == ':' else end}{item['prompt'][given.end():]}"
    return {**item, "prompt": prompt, "completion": _LIST.sub(_counted, item["completion"])}


def strip(answer: str) -> str:
    """A counted answer as the plain trace writes it (`[4: 1 12 15 18]` -> `[1 12 15 18]`)."""
    return _COUNT.sub("[", answer)


def main() -> None:
    ap = argparse.ArgumentParser(description="a counted model's first count and list on held-out list items")
    ap.add_argument("--base", required=True)
    ap.add_argument("--model", required=True, help="the probe's fine-tuned folder (<out>/model)")
    args = ap.parse_args()
    items = [count(it) for it in sft.lists(400, 99, 7)]
    items = [it for it in items if it["prompt"].split("With ")[1].startswith(("5 ", "6 ", "7 "))][:60]
    tok, model = models.load_tokenizer(args.base), models.load_merged(args.base, adapter=args.model)
    outs, _ = generation.generate(model, tok, [it["prompt"] for it in items], batch_size=64, max_new_tokens=128,
                                  stop=["\n"])
    seen = Counter()
    for it, out in zip(items, outs):
        gold, wrote = it["completion"].split("]")[0].split("[")[1], out.split("]")[0].split("[")[-1]
        want = gold.split(":")[0]
        seen[(want, wrote.split(":")[0] == want, len(wrote.split(":")[-1].split()) == int(want))] += 1
    print("(first count, count right, that many numbers listed): items", dict(sorted(seen.items())))


if __name__ == "__main__":
    main()
