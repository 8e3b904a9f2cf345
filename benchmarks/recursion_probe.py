"""Can a model that writes one step at a time reach five integers? A recursive protocol, probed (issue 14, item 5).

Every model of this project writes at most three steps for five integers (docs/sessions.md "Session 13", "31"):
the step count of its answers is capped by the train set's N of 3-4, even when the first step and its list of
four are written for it. Recursion of Thought (Lee & Kim, 2023) keeps every context short by having the model
solve one step and hand the rest to a new context. Here, with the `unwind` trace, one step
`goal op d = x [integers left]` leaves the puzzle "Make x from <integers left>.": so the model is fine-tuned on
single steps (each gold unwind step under the prompt of the sub-puzzle it starts: a 4-integer train puzzle gives
three examples, of 4, 3 and 2 integers), and scored by calling it once per step, each call's prompt written from
the model's *own* previous step (its new goal and its list, never corrected), until it writes an empty list.
The steps, joined as one unwind answer, are scored by the one checker (answers.verify), as the pipeline scores
a whole answer. Only the first call of a 5-integer puzzle sees five integers; every later one sees 4, 3 or 2.

`--harness-lists` scores the same model with the bookkeeping taken from it: the harness writes each step's list
(the integers of the call's prompt less the one the step takes; a step that takes no goal, or an integer the
prompt does not hold, ends the answer), so a call's prompt is the model's own result and the integers it left.
It locates the wall: search and arithmetic on five integers, or the list the model writes.

This is another protocol than the paper's one generation per puzzle, so its numbers are a row of their own.
`--target-last` writes every prompt, train and scored, as "From 3, 13, 14, 14, 19, make 42." (the goal, which an
unwind step starts from, then sits next to the answer whatever the number of integers; same puzzles).
A folder that already holds the puzzles and the model (`--out` of an earlier run) is scored again, not rebuilt.
Puzzles, fine-tuning and scoring follow benchmarks/learning_probe.py (same --set / --sft / --eval; `--set
seed=7` draws fresh items, none a pipeline test item): the same items as a learning_probe.py run with the same
--set and --eval, so `learning_probe.py --pair` pairs the two scores.json.

    python benchmarks/recursion_probe.py --base models/base --set seed=7 --eval 300 --out /tmp/rec
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from learning_probe import typed  # benchmarks/ is on sys.path when a script here runs

from mathtune import answers, checker, config, generation, io, models, protocol, puzzles, sft, stats, tuning

MAX_CALLS = 6  # a 5-integer puzzle needs 4; a model that never writes an empty list stops here


TARGET_LAST = "From {numbers}, make {target}."  # --target-last: the goal next to where the answer starts
PROMPT = protocol.PUZZLE_PROMPT


def sub_prompt(goal: str, listed: str) -> str:
    """The puzzle one unwind step leaves, in this probe's prompt wording (`sft.sub_prompt`)."""
    return sft.sub_prompt(goal, listed, PROMPT)


def first_prompt(item: dict) -> str:
    return sub_prompt(str(item["target"]), " ".join(map(str, sorted(item["numbers"]))))


def single_steps(record: dict) -> list[dict]:
    """A train puzzle's gold unwind answer as one example per step under its sub-puzzle's prompt (the sft stage's
    `sft.single_steps`, in this probe's prompt wording)."""
    return sft.single_steps(record, PROMPT)


def kept_step(step: str, goal: str, left: list[int]) -> tuple[str, str, list[int]] | None:
    """`--harness-lists`: the model's step with the list the harness keeps in place of the model's own: the
    integers of its prompt less the one the step takes (the final step, on two integers, takes both). None where
    the step is not an unwind step on its prompt: no goal operand, or an integer the prompt does not hold."""
    parsed = answers.steps(step)
    if len(parsed) != 1 or parsed[0] is None:
        return None
    a, op, b, c, _ = parsed[0]
    if len(left) == 2:
        return f"{a}{op}{b}={c} []", c, []
    d = b if a == goal else a if b == goal else None
    if d is None or int(d) not in left:
        return None
    rest = list(left)
    rest.remove(int(d))
    return f"{a}{op}{b}={c} [{' '.join(map(str, rest))}]", c, rest


def solve(model, tok, items: list[dict], harness_lists: bool = False) -> tuple[list[str], list[int]]:
    """Each item answered one step a call (batched over items), each prompt from the model's own last step
    (with `harness_lists`, its result and the integers of its prompt it did not take)."""
    prompts, answers_so_far = [first_prompt(it) for it in items], [[] for _ in items]
    goals, lefts = [str(it["target"]) for it in items], [sorted(it["numbers"]) for it in items]
    open_ = list(range(len(items)))
    for _ in range(MAX_CALLS):
        if not open_:
            break
        outs, _ = generation.generate(model, tok, [prompts[i] for i in open_], batch_size=64,
                                      max_new_tokens=protocol.MAX_NEW_TOKENS["puzzles"],
                                      stop=protocol.STOP["puzzles"], desc="recursion")
        still = []
        for i, out in zip(open_, outs):
            step = out.split(",")[0].strip()
            if harness_lists:
                kept = kept_step(step, goals[i], lefts[i])
                answers_so_far[i].append(kept[0] if kept else step)
                if kept and kept[2]:
                    goals[i], lefts[i] = kept[1], kept[2]
                    prompts[i] = sub_prompt(kept[1], " ".join(map(str, kept[2])))
                    still.append(i)
                continue
            answers_so_far[i].append(step)
            parsed = answers.steps(step)
            if len(parsed) == 1 and parsed[0] is not None and parsed[0][4] and parsed[0][4].strip():
                prompts[i] = sub_prompt(parsed[0][3], parsed[0][4])  # its own result and list, never corrected
                still.append(i)
        open_ = still
    return [", ".join(s) for s in answers_so_far], [len(s) for s in answers_so_far]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", required=True, help="base model folder (models/base or a probe's)")
    ap.add_argument("--set", nargs="*", default=[], help="puzzles.<key>=<value> overrides")
    ap.add_argument("--sft", nargs="*", default=[], help="sft.<key>=<value> overrides")
    ap.add_argument("--eval", type=int, default=300, help="items per test set")
    ap.add_argument("--out", default=None, help="scratch folder (default: a temp folder)")
    ap.add_argument("--harness-lists", action="store_true",
                    help="the harness writes each step's list (its prompt's integers less the one taken), not the model")
    ap.add_argument("--target-last", action="store_true",
                    help=f"every prompt (train and scored) as {TARGET_LAST!r}: a five-integer prompt puts the goal "
                         "as far from the answer as a shorter one does")
    args = ap.parse_args()
    global PROMPT
    PROMPT = TARGET_LAST if args.target_last else protocol.PUZZLE_PROMPT
    pcfg = typed(config.load("puzzles"), args.set + [f"test_size={args.eval}"])
    if pcfg.trace != "unwind":
        raise SystemExit(f"the recursive protocol reads unwind steps; got puzzles.trace={pcfg.trace}")
    scfg = typed(config.load("sft"), args.sft)
    work = Path(args.out or tempfile.mkdtemp(prefix="recursion-"))
    if not (work / "puzzles/train.jsonl").is_file():
        puzzles.synthesize(pcfg, work / "puzzles")
    whole = io.read_jsonl(work / "puzzles/train.jsonl")
    per_puzzle = [single_steps(r) for r in whole]
    steps = [ex for ex_list in per_puzzle for ex in ex_list]
    train, _ = sft.build_mix(scfg, {"puzzles": steps})
    print(f"{len(whole)} train puzzles -> {len(steps)} single-step examples "
          f"({sum(not ex_list for ex_list in per_puzzle)} puzzles without a chain answer left out)", flush=True)
    start = time.perf_counter()
    if not (work / "model").is_dir():
        fit = tuning.train_sft(scfg, train, work / "model", base=args.base, stage="probe")
    else:
        fit = {"final_loss": None}
    minutes = (time.perf_counter() - start) / 60
    tok = models.load_tokenizer(args.base)
    model = models.load_merged(args.base, adapter=str(work / "model"))
    row = {"protocol": "recursive (one step a call" + (", lists kept by the harness)" if args.harness_lists else ")"),
           "prompt": PROMPT, "train_examples": len(steps),
           "sft": {k: getattr(scfg, k) for k in ("lora_r", "learning_rate", "max_steps", "batch_size")},
           "minutes": round(minutes, 1), "final_loss": fit["final_loss"]}
    per_item = {}
    for name in ("in_domain", "ood_range", "ood_components"):
        items = io.read_jsonl(work / f"puzzles/{name}.jsonl")
        outs, calls = solve(model, tok, items, args.harness_lists)
        ok = [checker.score(it, o) for it, o in zip(items, outs)]
        lo, hi = stats.wilson(sum(ok), len(ok))
        row[name] = f"{sum(ok) / len(ok):.3f} [{lo:.3f}, {hi:.3f}]"
        row[f"{name}/steps_written"] = {n: calls.count(n) for n in sorted(set(calls))}
        per_item[name], per_item[f"{name}/outputs"] = ok, outs
        print(name, row[name], outs[:3], flush=True)
    io.write_json(work / ("scores-harness-lists.json" if args.harness_lists else "scores.json"), {"row": row, "items": per_item})
    print("ROW", json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
