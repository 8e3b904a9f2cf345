"""Index hints for issue 14: every given integer carries a letter, in the prompt and wherever the answer copies it.

`Make 7 from 1, 9, 12, 15, 18.` becomes `Make 7 from a1, c9, d12, g15, h18.` and its unwind answer
`9-7=2 [1 12 15 18], ...` becomes `c9-7=2 [a1 d12 g15 h18], ...`: a given integer is written with its letter
each time it is used or listed, intermediate results (the goals) never. A puzzle's letters are a sorted
random sample of N of the first `letters` of a-z (per item, its own RNG), so no letter is tied to a count:
index hints (Zhou et al. 2023, "What algorithms can transformers learn?") made randomised (Ruoss et al. 2023,
"Randomized positional encodings boost length generalization"). Copying a bracket is then "after the letter
just written, the next letter of the prompt not yet used", a step that is the same whatever N is; on
`ood_range` the number after a letter is copied from the prompt, whatever its value.

The letters are `puzzles.hint`'s (the pipeline's `puzzles.hints`, since session 42), drawn here per item id;
`prefix` moves a step's letters in front of it (`l: 9-7=2 [h1 q12 u15 x18]`), the probe's other form. The one
checker reads past the letters (`answers._normal`), so a labelled answer is judged exactly as the plain one.
Puzzles whose gold is not an unwind chain (the ~1 % fallback to the state trace) stay unlabelled.
Used by learning_probe.py's `--labels` and `--label-prefix`.

    python benchmarks/learning_probe.py --base <base> --set seed=7 --eval 300 --labels 26 --out /tmp/probe-labels
"""
from __future__ import annotations

import random
import re

from mathtune import puzzles

_LETTER = re.compile(r"(?<![A-Za-z])[a-z](?=[0-9])")


def label(item: dict, letters: int, seed: int, prefix: bool = False) -> dict:
    """`item` (a puzzle record) with letters in its prompt and completion; unchanged if its gold is not unwind."""
    out = puzzles.hint(item, letters, random.Random(f"{seed}:labels:{item['id']}"))
    if prefix and "hints" in out:
        steps = []
        for part in out["completion"].split(", "):
            calc, listed = part.split(" [", 1)
            lhs, rhs = calc.split("=", 1)
            steps.append(f"{' '.join(_LETTER.findall(lhs))}: {_LETTER.sub('', lhs)}={rhs} [{listed}")
        out = {**out, "completion": ", ".join(steps)}
    return out
