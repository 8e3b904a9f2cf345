"""The dual stage (arXiv 2403.18295): forward IRSP and reverse IR instances from GSM8K train and puzzles.

- IRSP (Intermediate Reasoning State Prediction, forward): the question and its solution with
  `irsp_mask_steps` steps replaced by <MASK>; the target is the masked step(s). A GSM8K step is only
  masked when every number of its calculator annotation is still visible elsewhere.
- IR (Instruction Reconstruction, reverse): the full solution and the question with one number
  (GSM8K: one the solution's calculator chain uses) or, for puzzles, one given integer or the target
  replaced by <MASK>; the target is the masked value.
Only train items are used, so nothing of a test set leaks. Each instance keeps `source_id`.
Run with `dvc repro dual`; `build(cfg, gsm8k_items, puzzle_items)` returns (irsp, ir) record lists.
"""
from __future__ import annotations

import random
import re

from mathtune import gsm8k, protocol

MASK = protocol.MASK
_NUM = re.compile(r"(?<![\d.,])\d+(?:\.\d+)?(?![\d])")


def _numbers(text: str) -> set[str]:
    return set(_NUM.findall(text.replace(",", "")))


def _instance(task: str, item: dict, prompt: str, completion: str) -> dict:
    return {"id": f"dual/{task}/{item['id']}", "source": item["source"], "task": task, "prompt": prompt,
            "completion": completion, "source_id": item["id"]}


def gsm8k_irsp(item: dict, rng: random.Random, k: int) -> dict | None:
    steps = gsm8k.steps(item["completion"])
    final = item["completion"].split("####")[-1]
    candidates = []
    for i, step in enumerate(steps):
        shown = item["question"] + "\n" + "\n".join(s for j, s in enumerate(steps) if j != i) + "\n" + final
        needed = set().union(*(_numbers(e + " " + r) for e, r in gsm8k.chain(step))) if gsm8k.chain(step) else {"x"}
        if needed <= _numbers(shown):  # recoverable: its operands and result are visible elsewhere
            candidates.append(i)
    if len(steps) < 2 or not candidates:
        return None
    masked = sorted(rng.sample(candidates, min(k, len(candidates), len(steps) - 1)))
    solution = "\n".join(MASK if i in masked else s for i, s in enumerate(steps))
    return _instance("irsp", item, protocol.IRSP_GSM8K_PROMPT.format(question=item["question"], solution=solution),
                     "\n".join(steps[i] for i in masked))


def gsm8k_ir(item: dict, rng: random.Random) -> dict | None:
    used = set()
    for expr, _ in gsm8k.chain(item["completion"]):
        used |= _numbers(expr)
    spans = [m for m in _NUM.finditer(item["question"]) if m.group().replace(",", "") in used]
    if not spans:
        return None
    m = rng.choice(spans)
    question = item["question"][:m.start()] + MASK + item["question"][m.end():]
    return _instance("ir", item, protocol.IR_GSM8K_PROMPT.format(question=question, solution=item["completion"]),
                     m.group())


def _given(item: dict) -> list[str]:
    """The puzzle's integers as its prompt writes them (with their letters under puzzles.hints)."""
    if "hints" in item:
        return [f"{t}{n}" for t, n in zip(item["hints"], item["numbers"])]
    return [str(n) for n in item["numbers"]]


def puzzle_irsp(item: dict, rng: random.Random) -> dict:
    steps = [s.strip() for s in item["completion"].split(",")]
    i = rng.randrange(len(steps))
    shown = ", ".join(MASK if j == i else s for j, s in enumerate(steps))
    prompt = protocol.IRSP_PUZZLE_PROMPT.format(numbers=", ".join(_given(item)),
                                                target=item["target"], solution=shown)
    return _instance("irsp", item, prompt, steps[i])


def puzzle_ir(item: dict, rng: random.Random) -> dict:
    numbers = _given(item)
    i = rng.randrange(len(numbers) + 1)  # one of the integers, or (i == len) the target
    target = MASK if i == len(numbers) else str(item["target"])
    answer = str(item["target"]) if i == len(numbers) else numbers[i]
    if i < len(numbers):
        numbers[i] = MASK
    prompt = protocol.IR_PUZZLE_PROMPT.format(numbers=", ".join(numbers), target=target, solution=item["completion"])
    return _instance("ir", item, prompt, answer)


def build(cfg, gsm8k_items: list[dict], puzzle_items: list[dict]) -> tuple[list[dict], list[dict]]:
    """IRSP and IR instances from the first gsm8k_size / puzzles_size train items (seeded selection)."""
    pick = random.Random(cfg.seed)
    g = pick.sample(gsm8k_items, min(cfg.gsm8k_size, len(gsm8k_items)))
    p = puzzle_items[:cfg.puzzles_size]
    irsp, ir = [], []
    for item in g + p:
        rng = random.Random(f"{cfg.seed}:{item['id']}")  # per-item RNG
        if item["source"] == "gsm8k":
            made = (gsm8k_irsp(item, rng, cfg.irsp_mask_steps), gsm8k_ir(item, rng))
        else:
            made = (puzzle_irsp(item, rng), puzzle_ir(item, rng))
        irsp += [made[0]] if made[0] else []
        ir += [made[1]] if made[1] else []
    return irsp, ir


def stage(cfg) -> tuple[dict, list[dict]]:
    """`dvc repro dual`: write data/dual/{irsp,ir}.jsonl; returns metrics and all instances."""
    from collections import Counter

    from mathtune import io
    g = gsm8k.load(io.path("data/gsm8k/train.jsonl"))
    p = io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target", "completion"))
    irsp, ir = build(cfg, g, p)
    io.write_jsonl(io.path("data/dual/irsp.jsonl"), irsp)
    io.write_jsonl(io.path("data/dual/ir.jsonl"), ir)
    counts = Counter(f"{r['task']}/{r['source']}" for r in irsp + ir)
    return {f"count/{k}": v for k, v in sorted(counts.items())}, irsp + ir
