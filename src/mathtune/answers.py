"""Puzzle answers: parse and verify untrusted text, and solve puzzles exactly (arXiv 2406.02100).

An answer is N-1 steps `a op b = c`, comma separated, that use every given integer and every
intermediate result exactly once and end at the target; a step may carry a sorted list of numbers
(`[..]`), which the verifier checks too. `check` reads the steps first to last (`steps` and `state`
traces) and also accepts a chain written outermost step first: last to first when the first step makes
the target (the `goal` trace: each step makes the current goal from one given integer and the next goal),
or as steps that compute each next goal from the current one and a given integer (the `unwind` trace:
`24-6=18` for `18+6=24`); the list is then the given integers unused. A wrong answer gets its
first-to-last reason (`_backward` gives the others; `diagnose` picks the reading of the gold's order).
Both readings accept only a real solution: the same steps, in an order in which they compute the target.
`solve` certifies solvability by exhaustive search; `chain` finds a solution of the `goal` / `unwind` shape.

Pure Python (no torch): model output is only ever a string here, parsed by regex, never eval'd.
    >>> verify([3, 6, 7, 51, 58], 4, "58-51=7, 6-7=-1, 3*-1=-3, -3+7=4")
    True
"""
from __future__ import annotations

import functools
import random
import re
from collections import Counter

MAX_CHARS = 4096  # longer answers are rejected before any parsing
_DIGITS = 40  # an operand longer than this is bad format: int() never sees a huge string
_NUM = rf"-?[0-9]{{1,{_DIGITS}}}"  # ASCII digits only: any other digit is bad format, never int()'d
_STEP = re.compile(rf"\s*({_NUM})\s*([-+*/])\s*({_NUM})\s*=\s*({_NUM})\s*(?:\[([-0-9 ]{{0,400}})\])?\s*")
_SEPARATORS = re.compile(r"[,;\n]")
# index hints (puzzles.hint): a letter before a digit `q12`; also a step's leading letters `q x: ` (the probe's variant)
_HINTS = re.compile(r"(?<![A-Za-z])(?:[a-z] )*[a-z]: ?|(?<![A-Za-z])[a-z](?=[0-9])")
_UNICODE = str.maketrans({"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u22c5": "*", "\u00b7": "*",
                          "\u00f7": "/", "\u2215": "/"})
REASONS = ("not a string", "too long", "empty", "bad format", "operand not available",
           "inexact division", "arithmetic error", "wrong state", "number left unused", "wrong final value")


def _apply(a: int, op: str, b: int) -> int | None:
    """a op b, or None where `/` is not exact."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0 or a % b:
        return None
    return a // b


def check(numbers, target: int, solution) -> str | None:
    """None for a valid solution, else the reason, starting with one of REASONS (then step details)."""
    if not isinstance(solution, str):
        return "not a string"
    if len(solution) > MAX_CHARS:
        return "too long"
    text = _normal(solution)
    if not text:
        return "empty"
    parts = _parts(text)  # separators alone leave none: `_forward` names the numbers left unused
    reason = _forward(numbers, target, parts)
    if reason is not None and parts and (_backward(numbers, target, parts) is None
                                         or _backward(numbers, target, parts, unwind=True) is None):
        return None  # a chain written outermost step first (`goal`, `unwind`: _backward)
    # a wrong answer keeps its first-to-last reason, so the reasons (mining's error types) of a `steps` or
    # `state` run are those of the code before `goal` existed: session 18 measured a changed mining otherwise
    return reason


def _normal(text: str) -> str:
    """An answer with Unicode operators made ASCII, index hints' letters, outer space and a final full stop dropped."""
    return _HINTS.sub("", text.translate(_UNICODE)).strip().rstrip(".").strip()


def _parts(text: str) -> list[str]:
    """A normalised answer's steps: split at the separators, empty pieces dropped."""
    return [p for p in _SEPARATORS.split(text) if p.strip()]


def steps(text: str) -> list[tuple | None]:
    """An answer's parts as the verifier reads them: per part, the strings (a, op, b, c, listed) of
    `a op b = c [listed]` (listed None where the step has no list), or None where the part is not a step."""
    return [m.groups() if (m := _STEP.fullmatch(p)) else None for p in _parts(_normal(text))]


def diagnose(numbers, target: int, solution, gold: str | None) -> str | None:
    """check()'s verdict, with a wrong answer's reason read in the order its `gold` is written: first to
    last (`steps`, `state`: check()'s own reason) or outermost step first (`goal`, `unwind`), so the bad cases of
    a goal or unwind run are named by their own steps (evaluate's reasons, mining's error types)."""
    reason = check(numbers, target, solution)
    if reason is None or reason in ("not a string", "too long", "empty") or not isinstance(gold, str):
        return reason
    gold_parts = _parts(_normal(gold))
    if _forward(numbers, target, gold_parts) is None:
        return reason
    for unwind in (False, True):
        if _backward(numbers, target, gold_parts, unwind) is None:
            return _backward(numbers, target, _parts(_normal(solution)), unwind)
    return reason


def _forward(numbers, target: int, parts: list[str]) -> str | None:
    """check() of steps read first to last: each step's operands come from the numbers left."""
    pool = Counter(numbers)
    last, k = None, 0
    for k, part in enumerate(parts, 1):
        m = _STEP.fullmatch(part)
        if not m:
            return f"bad format: step {k} {part.strip()[:40]!r}"
        a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
        for operand in (a, b):
            if pool[operand] <= 0:
                return f"operand not available: step {k} op {op} operand {operand}"
            pool[operand] -= 1
        value = _apply(a, op, b)
        if value is None:
            return f"inexact division: step {k} op {op}"
        if value != c:
            return f"arithmetic error: step {k} op {op} wrote {c} for {value}"
        pool[c] += 1
        last = c
        if m[5] is not None and _listed(m[5]) != +pool:  # a `state` step: the numbers left, exactly
            return f"wrong state: step {k} lists [{m[5].strip()[:40]}]"
    if sum(pool.values()) > 1:
        return f"number left unused: {sum(pool.values()) - 1} left after {k} steps"
    if last != target:
        return f"wrong final value: {last} for {target}"
    return None


def _listed(text: str) -> Counter | None:
    """The numbers of a step's `[..]` list, or None where one is not an ASCII integer (never int()'d)."""
    listed = text.split()
    return Counter(map(int, listed)) if all(re.fullmatch(_NUM, x) for x in listed) else None


def _backward(numbers, target: int, parts: list[str], unwind: bool = False) -> str | None:
    """check() of a chain whose first written step is the outermost: step k handles the current goal
    (the target, then the goal step k-1 left) with one given integer; the last step makes its goal from
    the two given integers left. A listed state is the given integers not yet used.
    `goal` (unwind False): step k writes `x op d = goal`, x the next goal (answers read last to first);
    `unwind`: step k computes the next goal from the goal, `goal op d = x` (or `d op goal = x`), each
    such step the inverse of a forward step `x op' d = goal` (`d op' x = goal`), so it is valid iff that is."""
    pool, goal = Counter(numbers), target
    for k, part in enumerate(parts, 1):
        m = _STEP.fullmatch(part)
        if not m:
            return f"bad format: step {k} {part.strip()[:40]!r}"
        a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
        innermost = k == len(parts)
        if c != goal and (innermost or not unwind):
            return f"wrong final value: step {k} makes {c} for the goal {goal}"
        listed = None if m[5] is None else _listed(m[5])
        if m[5] is not None and listed is None:
            return f"wrong state: step {k} lists [{m[5].strip()[:40]}]"
        if innermost:  # both operands are given integers
            for operand in (a, b):
                if pool[operand] <= 0:
                    return f"operand not available: step {k} op {op} operand {operand}"
                pool[operand] -= 1
        elif unwind:  # one operand is the goal (the first where both are), the other a given integer d != 0
            if goal not in (a, b):
                return f"operand not available: step {k} op {op} does not use the goal {goal}"
            d = b if a == goal else a
            if pool[d] <= 0 or d == 0:  # x * 0 = 0 would make `0 / 0 = x` true for any x
                return f"operand not available: step {k} op {op} operand {d}"
            pool[d] -= 1
            goal = c
        else:  # one operand is a given integer (b first: `x op d` is the trace's own order), the other the next goal
            given = [d for d in (b, a) if pool[d] > 0]
            if not given:
                return f"operand not available: step {k} op {op} operands {a} and {b}"
            d = next((d for d in given if listed is None or +(pool - Counter([d])) == listed), given[0])
            pool[d] -= 1
            goal = a if d == b else b
        value = _apply(a, op, b)
        if value is None:
            return f"inexact division: step {k} op {op}"
        if value != c:
            return f"arithmetic error: step {k} op {op} wrote {c} for {value}"
        if listed is not None and listed != +pool:
            return f"wrong state: step {k} lists [{m[5].strip()[:40]}]"
    if sum(pool.values()) > 0:
        return f"number left unused: {sum(pool.values())} left after {len(parts)} steps"
    return None


def verify(numbers, target: int, solution) -> bool:
    """True iff `solution` solves the puzzle. Never raises, whatever the input."""
    try:
        return check(numbers, target, solution) is None
    except Exception:  # noqa: BLE001 - untrusted input must only ever yield False
        return False


def solve(numbers, target: int, ops: str = "+-*/") -> str | None:
    """A solution found by exhaustive memoised search, or None if none exists (certifies 'unsolvable')."""
    steps = _solve(tuple(sorted(numbers)), target, ops)
    return None if steps is None else ", ".join(steps)


@functools.lru_cache(maxsize=200_000)
def _solve(pool: tuple, target: int, ops: str):
    if len(pool) == 1:
        return () if pool[0] == target else None
    for i, j, op, c in moves(pool, ops):
        if op in "+*" and i > j:  # commutative: one order is enough
            continue
        sub = _solve(tuple(sorted(rest(pool, i, j) + (c,))), target, ops)
        if sub is not None:
            return (f"{pool[i]}{op}{pool[j]}={c}",) + sub
    return None


def moves(pool, ops: str, bound: int | None = None):
    """Every legal step on a pool of numbers, as (i, j, op, result): ordered pairs of positions i != j,
    exact results only, within [-bound, bound] when a bound is given; always in this order (the
    generator draws from it, so the order is part of the data's bytes)."""
    for i, a in enumerate(pool):
        for j, b in enumerate(pool):
            for op in ops if i != j else "":
                c = _apply(a, op, b)
                if c is not None and (bound is None or abs(c) <= bound):
                    yield i, j, op, c


def rest(pool, i: int, j: int) -> tuple:
    """The pool without positions i and j."""
    return tuple(x for k, x in enumerate(pool) if k not in (i, j))


def _inverse(goal: int, d: int, bound: int):
    """Every (x, op, x_first) with `x op d = goal` (x_first) or `d op x = goal`, x exact and within bound."""
    out = [(goal - d, "+", True), (goal + d, "-", True), (d - goal, "-", False)]
    if d and goal % d == 0:
        out.append((goal // d, "*", True))
    if d:
        out.append((goal * d, "/", True))
    if goal and d % goal == 0 and d // goal:
        out.append((d // goal, "/", False))
    return [o for o in out if abs(o[0]) <= bound]


def chain(pool: tuple, goal: int, bound: int, rng: random.Random):
    """A chain solution, last step first, as (a, op, b, goal, given integers used), or None: depth-first
    over (given integer, operator) in an order drawn from rng, so the gold is one of many solutions."""
    if len(pool) == 2:
        options = [(x, op, y) for x, y in (pool, pool[::-1]) for op in "+-*/"]
        rng.shuffle(options)
        return next(([(x, op, y, goal, (x, y))] for x, op, y in options if _apply(x, op, y) == goal), None)
    ds = sorted(set(pool))
    rng.shuffle(ds)
    for d in ds:
        left = list(pool)
        left.remove(d)
        options = _inverse(goal, d, bound)
        rng.shuffle(options)
        for x, op, x_first in options:
            sub = chain(tuple(left), x, bound, rng)
            if sub is not None:
                return [(x, op, d, goal, (d,)) if x_first else (d, op, x, goal, (d,))] + sub
    return None
