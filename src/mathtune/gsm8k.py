"""GSM8K: load items, extract answers as lm-evaluation-harness does, and parse/re-run calculator chains.

`extract(text, "strict")` takes the `#### N` answer; `extract(text, "flexible")` the last number in
the text (lm-eval's regexes, kept in protocol.py). Both normalise by stripping `,` and `$` and a
trailing `.`. `is_correct(text, gold)` accepts GSM8K's whole answer field or the bare number.
`chain(answer)` lists the `<<expr=result>>` annotations; `calc(expr)` evaluates one by walking its
AST (numbers, + - * /, parentheses), never with eval. Pure Python: no torch.
"""
from __future__ import annotations

import ast
import operator
import re
from fractions import Fraction
from pathlib import Path

from mathtune import io, protocol

_STRICT = re.compile(protocol.GSM8K_STRICT_REGEX)
_FLEXIBLE = re.compile(protocol.GSM8K_FLEXIBLE_REGEX)
_CALC = re.compile(r"<<([^<>=]*)=([^<>]*)>>")
# a number in GSM8K text (mining renumbers questions with it, the rules instructor compares chains)
NUMBER = re.compile(r"(?<![\d.])\d+(?:\.\d+)?(?!\d|\.\d)")
MAX_EXPR = 200  # calculator expressions longer than this are refused


def load(path: str | Path) -> list[dict]:
    """GSM8K-format JSONL (`question`, `answer`) as records of the one record shape."""
    rows = io.read_jsonl(path, required=("question", "answer"))
    if not rows:
        raise ValueError(f"{path}: no GSM8K items (empty file)")
    stem = Path(path).stem
    return [{"id": f"gsm8k/{stem}/{i}", "source": "gsm8k", "task": "cot",
             "prompt": protocol.GSM8K_PROMPT.format(question=r["question"]),
             "completion": r["answer"], "question": r["question"], "answer": gold(r["answer"])}
            for i, r in enumerate(rows)]


def _normalise(s: str) -> str:
    for ch in protocol.GSM8K_IGNORE:
        s = s.replace(ch, "")
    return s.strip().removesuffix(".")


def extract(text: str, mode: str = "flexible") -> str | None:
    """The answer in `text` (normalised), or None if nothing can be extracted."""
    if mode == "strict":
        m = _STRICT.search(text)
        return _normalise(m.group(1)) if m else None
    if mode == "flexible":
        found = _FLEXIBLE.findall(text)
        if not found:
            return None
        a, b = found[-1]
        return _normalise(a or b) or None
    raise ValueError(f"mode must be 'strict' or 'flexible', got {mode!r}")


def gold(answer: str) -> str:
    """The gold number from a GSM8K answer field, or the bare number itself."""
    if "####" in answer:
        return _normalise(answer.split("####")[-1])
    return _normalise(answer)


def is_correct(text: str, gold_answer: str, mode: str = "flexible") -> bool:
    got = extract(text, mode)
    return got is not None and got == gold(str(gold_answer))


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def calc(expr: str) -> Fraction:
    """Exact value of a calculator expression such as `48/2` or `(3+4)*2`; ValueError if not arithmetic."""
    expr = expr.replace(",", "").replace("$", "").strip()
    if not expr or len(expr) > MAX_EXPR:
        raise ValueError(f"not a calculator expression: {expr[:40]!r}")
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError:
        raise ValueError(f"not a calculator expression: {expr[:40]!r}") from None

    def walk(node) -> Fraction:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and type(node.value) in (int, float):
            return Fraction(str(node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise ValueError("division by zero")
            return _OPS[type(node.op)](left, right)
        raise ValueError(f"not a calculator expression: {expr[:40]!r}")

    return walk(tree)


def chain(answer: str) -> list[tuple[str, str]]:
    """The `<<expr=result>>` calculator annotations of a solution, in order."""
    return [(e.strip(), r.strip()) for e, r in _CALC.findall(answer)]


def steps(answer: str) -> list[str]:
    """A solution's reasoning steps: its lines, without the final `#### N` line."""
    return [ln for ln in answer.split("\n") if ln.strip() and not ln.startswith("####")]
