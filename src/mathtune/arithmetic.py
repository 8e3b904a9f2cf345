"""Generic arithmetic text for the embedded base model: what a pretrained LM knows before this project.

The `local` base model pre-trains on GSM8K solutions plus these calculations, made by construction
over a wide integer range with negatives: single facts (`Compute 37*-12.` -> `37*-12=-444`) and
left-to-right chains (`Compute (12+7)*3-40.` -> `12+7=19, 19*3=57, 57-40=17`). There is no puzzle
prompt and no puzzle answer here (no target to reach, no "use each integer once"), so the base
model's puzzle pass@1 starts near 0 as open-llama's did in arXiv 2406.02100. Pure Python.

    items = arithmetic.corpus(50_000, seed=0)   # records: id, source, task, prompt, completion
"""
from __future__ import annotations

import random

PROMPT = "Compute {expression}."
MAX_PRODUCT = 9_999  # longer products are digit drill, not the arithmetic the puzzles need


def operand(rng: random.Random, small: int = 20) -> int:
    """An integer: 0-`small` half the time (the facts every pretrained LM knows cold; 20 is the range the
    puzzles' integers live in, 100 the bound on their steps), else 2 or 3 digits; negative one time in five."""
    kind = rng.choices(("small", 2, 3), weights=(5, 3, 2))[0]
    value = rng.randint(0, small) if kind == "small" else rng.randint(10 ** (kind - 1), 10 ** kind - 1)
    return -value if rng.random() < 0.2 else value


def step(rng: random.Random, a: int, small: int = 20) -> tuple[str, int, int]:
    """One operation on `a`: (op, b, result) with exact division and a bounded product."""
    while True:
        op, b = rng.choice("+-*/"), operand(rng, small)
        if op == "*" and abs(a * b) <= MAX_PRODUCT:
            return op, b, a * b
        if op == "/" and b != 0 and a % b == 0:
            return op, b, a // b
        if op in "+-":
            return op, b, a + b if op == "+" else a - b


def item(idx: int, seed: int, small: int = 20) -> dict:
    """Calculation idx: 1 to 3 operations applied left to right, each written as `a op b=c`."""
    rng = random.Random(f"{seed}:arithmetic:{idx}")  # per-item RNG: item idx never depends on the others
    value = operand(rng, small)
    expression, steps = str(value), []
    for k in range(rng.choices((1, 2, 3), weights=(5, 3, 2))[0]):
        op, b, result = step(rng, value, small)
        expression = f"({expression}){op}{b}" if k else f"{expression}{op}{b}"
        steps.append(f"{value}{op}{b}={result}")
        value = result
    return {"id": f"arithmetic/{idx}", "source": "arithmetic", "task": "calc",
            "prompt": PROMPT.format(expression=expression), "completion": ", ".join(steps), "answer": value}


def corpus(size: int, seed: int, small: int = 20) -> list[dict]:
    """`size` calculations; `small` is base.arithmetic_small (half the operands drawn from 0-small)."""
    return [item(i, seed, small) for i in range(size)]


def probe(size: int = 300, seed: int = 0, low: int = 1, high: int = 20, ops: str = "+-*") -> list[dict]:
    """Single facts on low-high (`Compute 13+9.` -> `13+9=22`): does a base model know the arithmetic the
    puzzles are made of? On 1-20 with + - * (the default) most of these 1,200 facts also occur in the corpus,
    as they do in any pretrained LM's: this measures knowledge, not generalisation. `low=21, high=60,
    ops="+-"` asks for the two-digit sums and differences the `ood_range` puzzles are made of."""
    default = (low, high, ops) == (1, 20, "+-*")  # its items and ids as they were before the range was a param
    rng = random.Random(f"{seed}:probe" if default else f"{seed}:probe:{low}-{high}{ops}")
    name = "arithmetic/probe" if default else f"arithmetic/probe/{low}-{high}{ops}"
    out = []
    for i in range(size):
        a, b, op = rng.randint(low, high), rng.randint(low, high), rng.choice(ops)
        value = a + b if op == "+" else a - b if op == "-" else a * b
        out.append({"id": f"{name}/{i}", "prompt": PROMPT.format(expression=f"{a}{op}{b}"),
                    "completion": f"{a}{op}{b}={value}", "answer": value})
    return out
