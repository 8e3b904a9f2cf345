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


def operand(rng: random.Random) -> int:
    """An integer: 0-20 half the time (the facts every pretrained LM knows cold, and the range the
    puzzles' steps live in), else 2 or 3 digits; negative one time in five."""
    kind = rng.choices(("small", 2, 3), weights=(5, 3, 2))[0]
    value = rng.randint(0, 20) if kind == "small" else rng.randint(10 ** (kind - 1), 10 ** kind - 1)
    return -value if rng.random() < 0.2 else value


def step(rng: random.Random, a: int) -> tuple[str, int, int]:
    """One operation on `a`: (op, b, result) with exact division and a bounded product."""
    while True:
        op, b = rng.choice("+-*/"), operand(rng)
        if op == "*" and abs(a * b) <= MAX_PRODUCT:
            return op, b, a * b
        if op == "/" and b != 0 and a % b == 0:
            return op, b, a // b
        if op in "+-":
            return op, b, a + b if op == "+" else a - b


def item(idx: int, seed: int) -> dict:
    """Calculation idx: 1 to 3 operations applied left to right, each written as `a op b=c`."""
    rng = random.Random(f"{seed}:arithmetic:{idx}")  # per-item RNG: item idx never depends on the others
    value = operand(rng)
    expression, steps = str(value), []
    for k in range(rng.choices((1, 2, 3), weights=(5, 3, 2))[0]):
        op, b, result = step(rng, value)
        expression = f"({expression}){op}{b}" if k else f"{expression}{op}{b}"
        steps.append(f"{value}{op}{b}={result}")
        value = result
    return {"id": f"arithmetic/{idx}", "source": "arithmetic", "task": "calc",
            "prompt": PROMPT.format(expression=expression), "completion": ", ".join(steps), "answer": value}


def corpus(size: int, seed: int) -> list[dict]:
    return [item(i, seed) for i in range(size)]


def probe(size: int = 300, seed: int = 0) -> list[dict]:
    """Single facts on 1-20 with + - * (`Compute 13+9.` -> `13+9=22`): does a base model know the
    arithmetic the puzzles are made of? Most of these 1,200 facts also occur in the corpus, as they do
    in any pretrained LM's: this measures knowledge, not generalisation."""
    rng = random.Random(f"{seed}:probe")
    out = []
    for i in range(size):
        a, b, op = rng.randint(1, 20), rng.randint(1, 20), rng.choice("+-*")
        value = a + b if op == "+" else a - b if op == "-" else a * b
        out.append({"id": f"arithmetic/probe/{i}", "prompt": PROMPT.format(expression=f"{a}{op}{b}"),
                    "completion": f"{a}{op}{b}={value}", "answer": value})
    return out
