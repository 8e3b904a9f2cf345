"""Where does a puzzle answer go wrong? The model's greedy answer, then the same answer with the gold's
first step written for it (the model writes the numbers left), then with the first step and its list.

If an answer given a right first step solves far more often, the first move (the search) is the wall;
if it still fails, the wall comes later: for five integers, whether the model writes the four steps and
the lists of four, three and two numbers that it never saw in training (the train set has N of 3-4).
Pass@1 is scored by the one checker with 95 % Wilson intervals; each condition also counts the answers
whose first step and list equal the gold's, the sizes of the first list and the number of steps.

    python benchmarks/teacher_forcing.py --model models/sft --puzzles data/puzzles --limit 300
    python benchmarks/teacher_forcing.py --model /tmp/probe/model --puzzles /tmp/probe/puzzles   # a probe's own fresh items

`--puzzles` is a folder of the puzzles stage's shape (a learning probe's `<out>/puzzles` holds fresh sets
drawn with its --set seed); the pipeline's own test sets are for reading a model, not for choosing one.
A first step is the text before its list's "["; the gold is written in its trace (data/puzzles/spec.json),
so this reads `state`, `goal` and `unwind` golds alike (not `steps`, which has no list). Greedy, CPU, minutes.
"""
from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from mathtune import answers, generation, io, models, protocol, stats


def prefixes(gold: str) -> dict[str, str]:
    """The answer text each condition writes for the model: nothing, the first step, the first step and list."""
    first = gold.split(", ")[0]
    return {"free": "", "first_step": first.split("[")[0] + "[", "first_step_and_list": first + ", "}


def complete(model, tok, items: list[dict], prefix: list[str], desc: str) -> list[str]:
    """Greedy answers to `items` that start with the given `prefix` (one per item), prefix included.

    A prompt's prefix is its gold's, so items with the same prompt share one (a set with repeats, such as
    train, is answered once per distinct prompt and each item gets that answer)."""
    by_prompt = dict(zip((it["prompt"] for it in items), prefix))
    chat = models.chat_prompt
    # the prefix goes after the chat template's assistant turn, as if the model had written it
    models.chat_prompt = lambda t, p: chat(t, p) + by_prompt[p]
    try:
        outs, _ = generation.generate(model, tok, list(by_prompt), max_new_tokens=protocol.MAX_NEW_TOKENS["puzzles"],
                                      stop=protocol.STOP["puzzles"], batch_size=64, desc=desc)
    finally:
        models.chat_prompt = chat
    answer = dict(zip(by_prompt, outs))
    return [p + answer[it["prompt"]] for it, p in zip(items, prefix)]


def first_list_size(read: list) -> int:
    """Numbers in an answer's first list, from the verifier's reading of it (`answers.steps`); -1: the first part
    is no step, or has no list."""
    return len(read[0][4].split()) if read and read[0] and read[0][4] is not None else -1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="models/sft", help="a full model folder or an adapter folder (load_merged)")
    ap.add_argument("--puzzles", default="data/puzzles")
    ap.add_argument("--sets", nargs="+", default=["in_domain", "ood_range", "ood_components"])
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--out", default=None, help="write the rows and per-item answers here as JSON")
    args = ap.parse_args()
    spec = io.read_json(Path(args.puzzles) / "spec.json")
    if spec["trace"] == "steps":
        raise SystemExit(f"{args.puzzles}/spec.json: trace 'steps' has no list to give; use a state, goal or unwind set")
    model_dir = models.resolve(args.model)
    tok, model = models.load_tokenizer(model_dir), models.load_merged(model_dir).eval()
    rows, per_item = [], {}
    print(f"## {args.model} on {args.puzzles} ({spec['trace']} trace), greedy")
    print("| set | N | condition | solved | pass@1 [95 % CI] | first step and list = gold | first list sizes | steps written |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.sets:
        items = io.read_jsonl(Path(args.puzzles) / f"{name}.jsonl")[:args.limit]
        golds = [prefixes(it["completion"]) for it in items]
        for cond in ("free", "first_step", "first_step_and_list"):
            outs = complete(model, tok, items, [g[cond] for g in golds], f"{name}/{cond}")
            ok = [answers.verify(it["numbers"], it["target"], o) for it, o in zip(items, outs)]
            read = [answers.steps(o) for o in outs]
            per_item[f"{name}/{cond}"] = [{"id": it["id"], "correct": c, "output": o} for it, c, o in zip(items, ok, outs)]
            for n in sorted({len(it["numbers"]) for it in items}):
                idx = [i for i, it in enumerate(items) if len(it["numbers"]) == n]
                solved = sum(ok[i] for i in idx)
                lo, hi = stats.wilson(solved, len(idx))
                same = sum(outs[i].split(", ")[0] == items[i]["completion"].split(", ")[0] for i in idx)
                sizes = dict(sorted(collections.Counter(first_list_size(read[i]) for i in idx).items()))
                steps = dict(sorted(collections.Counter(len(read[i]) for i in idx).items()))
                rows.append({"set": name, "n": n, "condition": cond, "items": len(idx), "solved": solved,
                             "first_list_sizes": sizes, "steps": steps, "first_same_as_gold": same})
                print(f"| {name} | {n} | {cond} | {solved} / {len(idx)} | {solved / len(idx):.3f} [{lo:.3f}, {hi:.3f}] "
                      f"| {same} | {sizes} | {steps} |", flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps({"model": args.model, "puzzles": args.puzzles, "rows": rows,
                                              "items": per_item}, indent=1))


if __name__ == "__main__":
    main()
