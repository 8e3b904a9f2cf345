"""Arithmetic puzzles (arXiv 2406.02100): generate by construction, write the splits (verifier: answers.py).

A puzzle is a multiset of N integers and a target T; an answer is N-1 steps `a op b = c`, comma
separated, that use every given integer and every intermediate result exactly once and end at T.
Negative intermediates are allowed; `/` only when exact. The paper's example:
`verify([3, 6, 7, 51, 58], 4, "58-51=7, 6-7=-1, 3*-1=-3, -3+7=4")` is True.
A step may carry the numbers left after it, sorted (`puzzles.trace: state`):
`"58-51=7 [3 6 7 7], 6-7=-1 [-1 3 7], 3*-1=-3 [-3 7], -3+7=4 [4]"`; the verifier checks that list too.
`puzzles.trace: goal` writes a chain solution last step first, each step making the current goal from
one given integer and a new goal, with the given integers still unused: `"-3+7=4 [3 6 51 58], 3*-1=-3
[6 51 58], 6-7=-1 [51 58], 58-51=7 []"`. What is left after a step is then a smaller puzzle of given
integers (an N = 3 puzzle after the first step of an N = 4 one), whatever N is. `puzzles.trace: unwind`
is the same chain with each outer step written as the computation of the next goal from the goal and a
given integer, so a step's result follows its operands: `"4-7=-3 [3 6 51 58], -3/3=-1 [6 51 58],
6--1=7 [51 58], 58-51=7 []"`. The verifier accepts each of these forms (`answers.check`).
`puzzles.hints: L` > 0 gives every given integer a letter, in the prompt and wherever the answer copies it
(index hints: `hint`); the verifier reads past the letters.
Every intermediate result and the target lie within [-bound, bound] (`puzzles.bound`, alike for train
and the test sets), so the task is the search, not long multiplication (Countdown keeps T <= 100).

Pure Python (no torch). Run the stage with `dvc repro puzzles`; `synthesize(cfg, out_dir)` writes four splits:

    train           the fine-tuning set (SFT, dual, mining, DPO): N in [train_n_from, train_n_max],
                    values in [value_min, value_max], no test puzzle, repeats kept (as fresh
                    sampling gives them); the base model never sees a puzzle
    in_domain       N in [train_n_min, train_n_max], train's values, disjoint from train
    ood_range       same N, values in [value_max + 1, ood_value_max]
    ood_components  N = ood_n (more integers than train has), train's values
`puzzles.prime` > 0 appends that many puzzles of each out-of-domain kind to train (priming, drawn
like ood_range and ood_components, none of their test puzzles): a row of its own, never the default.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import random
import string
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from mathtune import answers, io, protocol


@dataclass(frozen=True)
class Split:
    name: str
    size: int
    n_min: int
    n_max: int
    lo: int
    hi: int


def render(steps: list[tuple[int, str, int, int]], numbers: list[int], trace: str) -> str:
    """The answer text: `a op b = c` steps, comma separated; `state` adds the sorted numbers left."""
    if trace == "steps":
        return ", ".join(f"{a}{op}{b}={c}" for a, op, b, c in steps)
    pool, out = Counter(numbers), []
    for a, op, b, c in steps:
        pool[a] -= 1
        pool[b] -= 1
        pool[c] += 1
        out.append(_listed_step(a, op, b, c, pool))
    return ", ".join(out)


def _listed_step(a: int, op: str, b: int, c: int, pool: Counter) -> str:
    """One step followed by the sorted numbers of `pool` (`state`: numbers left; `goal`: given integers left)."""
    return f"{a}{op}{b}={c} [{' '.join(map(str, sorted(pool.elements())))}]"


def generate(rng: random.Random, split: Split, ops: str, bound: int = 10**9,
             trace: str = "steps") -> tuple[list[int], int, str]:
    """One puzzle by construction: draw integers, then combine two at a time until one is left.

    Each step is drawn uniformly from the (pair, operator) moves whose result is exact and within
    [-bound, bound]; a draw that gets stuck (no such move) starts over with the next draws of rng.
    """
    while True:
        n = rng.randint(split.n_min, split.n_max)
        pool = [rng.randint(split.lo, split.hi) for _ in range(n)]
        numbers, steps = sorted(pool), []
        while len(pool) > 1:
            legal = list(answers.moves(pool, ops, bound))
            if not legal:
                break
            i, j, op, c = rng.choice(legal)
            steps.append((pool[i], op, pool[j], c))
            pool = list(answers.rest(pool, i, j)) + [c]
        if len(pool) == 1:
            if trace in ("goal", "unwind"):
                chain = answers.chain(tuple(numbers), pool[0], bound, rng)
                if chain is not None:
                    return numbers, pool[0], _render_goal(chain, numbers, trace == "unwind")
                trace = "state"  # no chain solution (~2 % of N = 4): the drawn path, first step first
            return numbers, pool[0], render(steps, numbers, trace)


_INVERSE = {"+": "-", "-": "+", "*": "/", "/": "*"}


def _render_goal(chain: list[tuple], numbers: list[int], unwind: bool) -> str:
    """The `goal` or `unwind` answer text: each step with the given integers not yet used.

    `unwind` writes an outer step `x op d = goal` as `goal op' d = x` and `d op x = goal` (op - or /) as
    `d op goal = x`: the next goal is then the step's result, computed from numbers already written."""
    pool, out = Counter(numbers), []
    for a, op, b, c, used in chain:
        pool.subtract(used)
        if unwind and len(used) == 1:
            d = used[0]
            a, op, b, c = (c, _INVERSE[op], d, a) if b == d else (d, op, c, b)
        out.append(_listed_step(a, op, b, c, pool))
    return ", ".join(out)


def record(split: str, idx: int, numbers: list[int], target: int, solution: str) -> dict:
    """The one record shape for a puzzle item."""
    return {"id": f"puzzles/{split}/{idx}", "source": "puzzles", "task": "cot",
            "prompt": protocol.PUZZLE_PROMPT.format(numbers=", ".join(map(str, numbers)), target=target),
            "completion": solution, "numbers": numbers, "target": target}


def hint(item: dict, letters: int, rng: random.Random) -> dict:
    """`item` (an `unwind` puzzle record) with index hints: each given integer carries a letter, in the prompt
    and wherever the answer takes it or lists it; intermediate results never do.

    `Make 7 from 1, 9, 12, 15, 18.` -> `Make 7 from h1, l9, q12, u15, x18.`, its answer
    `l9-7=2 [h1 q12 u15 x18], 2/h1=2 [q12 u15 x18], 2*u15=30 [q12 x18], q12+x18=30 []`. The letters are a
    sorted random sample of N of the first `letters` of a-z (rng: the item's own), so no letter stands for a
    count (index hints, Zhou et al. 2023, drawn at random as Ruoss et al. 2023 draw positions). The letter
    stands right before its integer, so copying an operand is "the token after this letter in the prompt"
    (letters leading the step instead, `l: 9-7=2`, lost the `ood_range` gain: docs/sessions.md "Session 42").
    An item whose gold is not an unwind chain (the state-trace fallback) comes back unchanged."""
    numbers = item["numbers"]
    tags = sorted(rng.sample(string.ascii_lowercase[:letters], len(numbers)))
    pool = list(zip(tags, numbers))  # sorted by value: the letters rise with the values
    goal, out = item["target"], []
    for part in answers.steps(item["completion"]):
        if part is None or part[4] is None:
            return item
        a, op, b, c, listed = part
        left, have = Counter(int(x) for x in listed.split()), Counter(v for _, v in pool)
        used = have - left
        if sum(used.values()) not in (1, 2) or left - have:
            return item
        taken = [pool.pop(next(i for i, (_, w) in enumerate(pool) if w == v)) for v in sorted(used.elements())]
        if len(taken) == 2:  # the last step: both operands given
            first = 0 if taken[0][1] == int(a) else 1
            a, b = f"{taken[first][0]}{a}", f"{taken[1 - first][0]}{b}"
        elif int(a) == goal and int(b) == taken[0][1]:  # `goal op d`
            b = f"{taken[0][0]}{b}"
        elif int(a) == taken[0][1]:  # `d op goal`
            a = f"{taken[0][0]}{a}"
        else:
            return item
        out.append(f"{a}{op}{b}={c} [{' '.join(f'{t}{v}' for t, v in pool)}]")
        goal = int(c)
    if pool:
        return item
    prompt = protocol.PUZZLE_PROMPT.format(numbers=", ".join(f"{t}{v}" for t, v in zip(tags, numbers)),
                                           target=item["target"])
    return {**item, "prompt": prompt, "completion": ", ".join(out), "hints": "".join(tags)}


def _chunk(args) -> list[tuple[tuple, str]]:
    """Worker: items [start, end) of a split as (key, JSON line), each verified against its gold."""
    split, ops, bound, trace, hints, seed, start, end = args
    out = []
    for idx in range(start, end):
        # per-item RNG: item idx is the same whatever the chunking or the worker count
        rng = random.Random(f"{seed}:{split.name}:{idx}")
        numbers, target, solution = generate(rng, split, ops, bound, trace)
        item = record(split.name, idx, numbers, target, solution)
        if hints:  # the letters draw from their own RNG: the same puzzles as without them
            item = hint(item, hints, random.Random(f"{seed}:{split.name}:{idx}:hints"))
        if answers.check(numbers, target, item["completion"]) is not None:
            raise AssertionError(f"generator made an invalid puzzle: {numbers} {target} {item['completion']}")
        out.append(((tuple(numbers), target), json.dumps(item)))
    return out


def splits(cfg) -> list[Split]:
    """Test sets first: they claim their puzzles; then train, skipping all of them.

    The order makes the test sets independent of train_size: with per-item RNG, a split's bytes
    depend only on the splits before it.
    """
    return [
        Split("in_domain", cfg.test_size, cfg.train_n_min, cfg.train_n_max, cfg.value_min, cfg.value_max),
        Split("ood_range", cfg.test_size, cfg.train_n_min, cfg.train_n_max, cfg.value_max + 1, cfg.ood_value_max),
        Split("ood_components", cfg.test_size, cfg.ood_n, cfg.ood_n, cfg.value_min, cfg.value_max),
        Split("train", cfg.train_size, cfg.train_n_from, cfg.train_n_max, cfg.value_min, cfg.value_max),
    ] + ([  # priming: after train, so train's own items are the same bytes with or without it
        Split("prime_range", cfg.prime, cfg.train_n_min, cfg.train_n_max, cfg.value_max + 1, cfg.ood_value_max),
        Split("prime_components", cfg.prime, cfg.ood_n, cfg.ood_n, cfg.value_min, cfg.value_max),
    ] if cfg.prime else [])


def _write_split(split: Split, cfg, seen: set, pool, f, chunk: int) -> int:
    """Stream puzzles of `split` (in index order) into file `f`, none of them in `seen`; returns items drawn.

    A test (or priming) split's puzzles are unique and join `seen`. The train split skips every test puzzle but
    keeps its own repeats, as fresh sampling would: forcing train to be unique would skew it to
    N = 4, because 3-integer puzzles over 1-20 are few (a unique 100k train set was 77 % N = 4).
    """
    unique = split.name != "train"
    written, next_idx, drawn = 0, 0, 0
    bar = tqdm(total=split.size, desc=f"puzzles/{split.name}", unit="pz", mininterval=2, disable=split.size < 10_000)
    while written < split.size:
        want = int((split.size - written) * 1.05) + chunk  # duplicates are rare: one round usually does
        jobs = [(split, cfg.ops, cfg.bound, cfg.trace, cfg.hints, cfg.seed, s, min(s + chunk, next_idx + want))
                for s in range(next_idx, next_idx + want, chunk)]
        next_idx += want
        results = pool.imap(_chunk, jobs) if pool else map(_chunk, jobs)
        for items in results:
            for key, line in items:
                if written >= split.size:
                    break
                drawn += 1
                if key not in seen:
                    if unique:
                        seen.add(key)
                    f.write(line + "\n")
                    written += 1
                    bar.update(1)
        if next_idx > 50 * split.size + 10_000:
            raise ValueError(f"puzzles.{split.name}: cannot find {split.size} distinct puzzles in this "
                             f"range; lower the size or widen the value/N range")
    bar.close()
    return drawn


def synthesize(cfg, out_dir: str | Path) -> dict:
    """Write train and the three test sets as JSONL under out_dir; returns metrics."""
    if any(ch not in "+-*/" for ch in cfg.ops) or not cfg.ops:
        raise ValueError(f"params puzzles.ops: expected a subset of '+-*/', got {cfg.ops!r}")
    if cfg.trace not in ("steps", "state", "goal", "unwind"):
        raise ValueError(f"params puzzles.trace: expected 'steps', 'state', 'goal' or 'unwind', got {cfg.trace!r}")
    if not 2 <= cfg.train_n_from <= cfg.train_n_min:
        raise ValueError("params puzzles.train_n_from: must be >= 2 and <= puzzles.train_n_min")
    if cfg.bound < max(cfg.ood_value_max, cfg.value_max):
        raise ValueError("params puzzles.bound: must be >= every value a puzzle draws (ood_value_max)")
    if cfg.ood_n <= cfg.train_n_max:
        raise ValueError("params puzzles.ood_n: must exceed puzzles.train_n_max (more integers than train)")
    if not 0 <= cfg.hints <= 26 or cfg.hints and (cfg.trace != "unwind" or cfg.hints < cfg.ood_n):
        raise ValueError(f"params puzzles.hints: expected 0, or ood_n..26 letters with trace 'unwind', got {cfg.hints}")
    if cfg.prime < 0:
        raise ValueError(f"params puzzles.prime: expected >= 0 puzzles per out-of-domain kind, got {cfg.prime}")
    out_dir = Path(out_dir)
    seen: set = set()
    metrics, start = {}, time.perf_counter()
    chunk = 2_000
    pool = mp.get_context("fork").Pool(cfg.workers) if cfg.workers > 1 else None
    try:
        files: dict[str, list[Split]] = {}  # the priming splits go into train.jsonl, after train's own items
        for split in splits(cfg):
            files.setdefault("train" if split.name.startswith("prime") else split.name, []).append(split)
        for name, parts in files.items():
            with io.atomic_path(out_dir / f"{name}.jsonl") as tmp, open(tmp, "w", encoding="utf-8") as f:
                for split in parts:
                    if split.size <= 0:
                        raise ValueError(f"params puzzles: split {split.name} would be empty (size {split.size})")
                    attempts = _write_split(split, cfg, seen, pool, f, chunk)
                    metrics[f"{split.name}/count"] = split.size
                    metrics[f"{split.name}/skipped"] = attempts - split.size  # repeats (tests) or test puzzles (train)
    finally:
        if pool:
            pool.close()
            pool.join()
    # what a later stage needs to make more puzzles of this kind (mining's targeted synthesis)
    io.write_json(out_dir / "spec.json", {"ops": cfg.ops, "bound": cfg.bound, "trace": cfg.trace,
                                          **({"hints": cfg.hints} if cfg.hints else {})})
    seconds = time.perf_counter() - start
    total = sum(s.size for s in splits(cfg))
    metrics.update({"seconds": round(seconds, 2), "puzzles_per_s": round(total / seconds)})
    return metrics


def stage(cfg) -> dict:
    """`dvc repro puzzles`: write data/puzzles/{train,in_domain,ood_range,ood_components}.jsonl."""
    return synthesize(cfg, io.path("data/puzzles"))


def spec() -> dict:
    """ops, bound and trace of the puzzles stage's output (data/puzzles/spec.json)."""
    return io.read_json(io.path("data/puzzles/spec.json"))


def test_keys() -> set:
    """(sorted integers, target) of every test puzzle, for leak checks downstream."""
    keys = set()
    for name in ("in_domain", "ood_range", "ood_components"):
        keys |= {(tuple(r["numbers"]), r["target"]) for r in io.read_jsonl(io.path(f"data/puzzles/{name}.jsonl"))}
    return keys
