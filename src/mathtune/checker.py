"""The one checker: `score(item, completion)` for evaluation, mining labels and DPO rewards.

Dispatches on the record's `source` and `task`:
- `cot` on GSM8K: `gsm8k.is_correct(completion, item["answer"], mode)` (`strict` = the `#### N` line);
- `cot` on puzzles: `answers.verify(item["numbers"], item["target"], completion)`;
- dual tasks (`irsp`, `ir`) and anything else: exact match with the gold completion, spaces normalised.
A completion is untrusted text; nothing here imports torch or evaluates it.
"""
from __future__ import annotations

from mathtune import answers, gsm8k


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def score(item: dict, completion: str, mode: str = "strict") -> bool:
    """True iff `completion` answers `item` correctly; `mode` applies to GSM8K answers."""
    if not isinstance(completion, str):
        return False
    task, source = item.get("task"), item.get("source")
    if task == "cot" and source == "gsm8k":
        return gsm8k.is_correct(completion, item["answer"], mode)
    if task == "cot" and source == "puzzles":
        return answers.verify(item["numbers"], item["target"], completion)
    return _same(completion, item["completion"])
