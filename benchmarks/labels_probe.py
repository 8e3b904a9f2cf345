"""Index hints for issue 14: every given integer carries a letter, in the prompt and wherever the answer copies it.

`Make 7 from 1, 9, 12, 15, 18.` becomes `Make 7 from a1, c9, d12, g15, h18.` and its unwind answer
`9-7=2 [1 12 15 18], ...` becomes `c9-7=2 [a1 d12 g15 h18], ...`: a given integer is written with its letter
each time it is used or listed, intermediate results (the goals) never. A puzzle's letters are a sorted
random sample of N of the first `letters` of a-z (per item, its own RNG), so no letter is tied to a count:
index hints (Zhou et al. 2023, "What algorithms can transformers learn?") made randomised (Ruoss et al. 2023,
"Randomized positional encodings boost length generalization"). Copying a bracket is then "after the letter
just written, the next letter of the prompt not yet used", a step that is the same whatever N is; on
`ood_range` the number after a letter is copied from the prompt, whatever its value.

The scorer strips the letters (`unlabel`) and calls the one checker, so a labelled answer is judged exactly
as the plain one. Puzzles whose gold is not an unwind chain (the ~1 % fallback to the state trace) stay
unlabelled. Used by learning_probe.py's `--labels`; nothing in the pipeline reads it.

    python benchmarks/learning_probe.py --base <base> --set seed=7 --eval 300 --labels 26 --out /tmp/probe-labels
"""
from __future__ import annotations

import random
import re
import string
from collections import Counter

from mathtune import answers, protocol

_LABEL = re.compile(r"(?<![A-Za-z])[a-z](?=[0-9])")
_PREFIX = re.compile(r"(?<![A-Za-z])(?:[a-z] )*[a-z]: ?")


def unlabel(text: str) -> str:
    """`text` with every letter that stands before a digit removed (`c9-7=2 [a1 d12]` -> `9-7=2 [1 12]`), and
    every step's letter prefix (`c: 9-7=2` -> `9-7=2`)."""
    return _PREFIX.sub("", _LABEL.sub("", text)) if isinstance(text, str) else text


def label(item: dict, letters: int, seed: int, prefix: bool = False) -> dict:
    """`item` (a puzzle record) with letters in its prompt and completion; unchanged if its gold is not unwind."""
    numbers = item["numbers"]
    rng = random.Random(f"{seed}:labels:{item['id']}")
    tags = sorted(rng.sample(string.ascii_lowercase[:letters], len(numbers)))
    pool = list(zip(tags, numbers))  # sorted by value, so the letters rise with the values
    goal, out = item["target"], []
    for part in answers.steps(item["completion"]):
        if part is None or part[4] is None:
            return item
        a, op, b, c, listed = part
        left = Counter(int(x) for x in listed.split())
        used = Counter(v for _, v in pool) - left
        if sum(used.values()) not in (1, 2) or left - Counter(v for _, v in pool):
            return item
        taken = []
        for v in sorted(used.elements()):
            i = next(i for i, (_, w) in enumerate(pool) if w == v)
            taken.append(pool.pop(i))
        if len(taken) == 1:  # unwind: `goal op d = x` or `d op goal = x`; d carries its letter
            (t, d), = taken
            if int(b) == d and int(a) == goal:
                b = f"{t}{b}"
            elif int(a) == d:
                a = f"{t}{a}"
            else:
                return item
        else:  # the last step: two given integers
            first = next(k for k, (_, v) in enumerate(taken) if v == int(a))
            a = f"{taken[first][0]}{a}"
            b = f"{taken[1 - first][0]}{b}"
        if prefix:  # the letters lead the step, whose arithmetic is then written as the base learned it
            lead = [m.group(0) for m in (_LABEL.match(a), _LABEL.match(b)) if m]  # in the operands' order
            a, b = _LABEL.sub("", a), _LABEL.sub("", b)
            out.append(f"{' '.join(lead)}: {a}{op}{b}={c} [{' '.join(f'{t}{v}' for t, v in pool)}]")
        else:
            out.append(f"{a}{op}{b}={c} [{' '.join(f'{t}{v}' for t, v in pool)}]")
        goal = int(c)
    if pool:
        return item
    prompt = protocol.PUZZLE_PROMPT.format(numbers=", ".join(f"{t}{v}" for t, v in zip(tags, numbers)),
                                           target=item["target"])
    return {**item, "prompt": prompt, "completion": ", ".join(out), "labels": "".join(tags)}
