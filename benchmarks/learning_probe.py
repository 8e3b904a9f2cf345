"""How fast does a base model learn the puzzle? One fine-tuning run on fresh puzzles, then pass@1.

Used for the README's tables (diagnosis, LoRA or full, extrapolation levers): each row is one call.
Puzzles come from params.yaml's `puzzles:` block with --set overrides, into a scratch folder; the
fine-tuning is the sft stage's own code (tuning.train_sft) on puzzle train records only, with the
`sft:` block's params overridden by --sft; pass@1 is greedy, scored by the one checker, with 95 %
Wilson intervals. Nothing under data/ or models/ is touched. With the default `puzzles.seed` the
scored sets are drawn as the pipeline's test sets are (same generator, same seed, per-item RNG), so not
fresh: to choose a setting, pass another seed (`--set seed=7`), as docs/sessions.md's "Session 12" rows do.

    python benchmarks/learning_probe.py --base /tmp/probe/base --set trace=steps --sft max_steps=1500 lora_r=0

The sft block's replay and list weights apply as in the sft stage: `mix_arithmetic` (replayed calculations, W x
the train puzzles, over params.yaml's `base.arithmetic_small` range: sft.replay) and `mix_lists` (sft.lists); since
session 39 params.yaml sets them to 0.25 and 0.1, so the puzzles-only control of earlier sessions' rows is
`--sft mix_arithmetic=0 mix_lists=0`;
`--sub-steps W` mixes in W x the train puzzles of single steps, each gold unwind step under the prompt of the
sub-puzzle it starts (benchmarks/recursion_probe.py), beside the whole answers; scoring stays one generation a puzzle.
`--freeze-embeddings` trains every weight but the token embeddings (tied to the LM head in the embedded model).
`--picks W` mixes in W x the train puzzles of benchmarks/pick_probe.py's items of `--kind` (`picks`: operand
picked from a list; `lists`: named operands taken from a list, the numbers left written after each step).
`--counts` states the count of given integers in the prompt and on every list (benchmarks/counts_probe.py);
`--positions P` gives half the SFT rows position ids sorted from a random draw of range(P) (positions_probe.py).
`--labels L` writes a letter on each given integer, train and scored alike (benchmarks/labels_probe.py: the
form `puzzles.hints` adopted; `--label-prefix` the letters leading each step), scored by the one checker, which reads past the letters.
Besides pass@1 each set reports `first_step_copies`: the share of answers whose first step uses numbers
of the prompt (its first failure, read in the gold's order by answers.diagnose, is not "operand not available"
at step 1; read first to last, every wrong unwind answer failed there, its first step starting at the target).
Per-item results (pass, first-step copy, the answer) go to <out>/scores.json; two probes with the same --set and
--eval score the same items, so `--pair A/scores.json B/scores.json` prints the paired table (exact
McNemar) of two runs.
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from mathtune import answers, checker, config, generation, io, models, protocol, puzzles, sft, stats, tuning


def typed(cfg, pairs: list[str]):
    """cfg with `key=value` overrides, each value cast to the field's type; an unknown key is named."""
    kinds = {k: type(v) for k, v in vars(cfg).items()}
    pairs = [p.split("=", 1) for p in pairs]
    unknown = [k for k, _ in pairs if k not in kinds]
    if unknown:
        raise SystemExit(f"unknown param(s): {unknown}; known: {sorted(kinds)}")
    return replace(cfg, **{k: kinds[k](v) if kinds[k] is not bool else v.lower() == "true" for k, v in pairs})


def _frozen(model):
    """`model` with its input embeddings (and so a tied LM head) not trained."""
    model.get_input_embeddings().weight.requires_grad_(False)
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", help="base model folder (models/base or a probe's); not needed with --pair")
    ap.add_argument("--set", nargs="*", default=[], help="puzzles.<key>=<value> overrides")
    ap.add_argument("--sft", nargs="*", default=[], help="sft.<key>=<value> overrides")
    ap.add_argument("--eval", type=int, default=300, help="items per test set")
    ap.add_argument("--out", default=None, help="where the fine-tuned model goes (default: a temp folder)")
    ap.add_argument("--picks", type=float, default=0.0,
                    help="W x the train puzzles of pick_probe.py's items (operand picked from a list) in the mix")
    ap.add_argument("--kind", choices=("picks", "lists"), default="picks", help="which pick_probe.py items")
    ap.add_argument("--sub-steps", type=float, default=0.0,
                    help="W x the train puzzles of single-step sub-puzzle examples (recursion_probe.py) in the mix")
    ap.add_argument("--freeze-embeddings", action="store_true",
                    help="full fine-tuning with the token embeddings (tied: also the LM head) left as the base has them")
    ap.add_argument("--labels", type=int, default=0,
                    help="L > 0: every given integer carries one of the first L letters (benchmarks/labels_probe.py)")
    ap.add_argument("--label-prefix", action="store_true",
                    help="with --labels: a step's letters lead it (`z: 62-19=43 [a1 n15]`), its arithmetic unlabelled")
    ap.add_argument("--counts", action="store_true",
                    help="every list and prompt states its count, puzzles and list items alike (counts_probe.py)")
    ap.add_argument("--positions", type=int, default=0,
                    help="P > 0: half the SFT rows get sorted random position ids from range(P) (positions_probe.py)")
    ap.add_argument("--pair", nargs=2, metavar="SCORES", help="compare two probes' scores.json, paired; nothing runs")
    args = ap.parse_args()
    if args.pair:
        a, b = (io.read_json(p) for p in args.pair)
        # answer lists are not paired (`raw_outputs`: session 42's first probes kept the lettered answers apart)
        for name in (n for n in a["items"] if not n.endswith("outputs") and n in b["items"]):
            print(name, json.dumps(stats.paired(a["items"][name], b["items"][name])))
        return
    if not args.base:
        ap.error("--base is required to run a probe")
    if args.kind != "picks" and not args.picks:
        ap.error("--kind mixes in items only with --picks W > 0")
    from nope_probe import install  # a base whose config names `nope_layers` (nope_probe.py) skips RoPE there
    install()
    pcfg = typed(config.load("puzzles"), args.set + [f"test_size={args.eval}"])
    scfg = typed(config.load("sft"), args.sft)
    work = Path(args.out or tempfile.mkdtemp(prefix="probe-"))
    puzzles.synthesize(pcfg, work / "puzzles")
    train = io.read_jsonl(work / "puzzles/train.jsonl")
    if args.labels:  # index hints (labels_probe.py): train and scored items alike
        from labels_probe import label
        train = [label(it, args.labels, pcfg.seed, args.label_prefix) for it in train]
    if args.counts:  # counted lists (counts_probe.py): train and scored items alike
        from counts_probe import count, strip
        train = [count(it) for it in train]
    # the sft stage's own mix of these puzzles, replayed calculations and list items (its other sources are left out);
    # puzzles alone come out in the order of a Random(seed) shuffle, as probes before the option drew them
    sources = {"puzzles": train, "arithmetic": sft.replay(len(train), scfg.seed) if scfg.mix_arithmetic else [],
               "lists": sft.lists(len(train), scfg.seed, scfg.list_steps) if scfg.mix_lists else []}
    if args.counts:
        sources["lists"] = [count(it) for it in sources["lists"]]
    train, _ = sft.build_mix(scfg, sources)
    if args.picks:  # issue 14's copy lever (benchmarks/pick_probe.py), shuffled into the mix
        from pick_probe import picks
        train += picks(int(args.picks * len(sources["puzzles"])), scfg.seed, args.kind)
        random.Random(scfg.seed).shuffle(train)
    if args.sub_steps:  # each gold unwind step under the prompt of the sub-puzzle it starts, beside whole answers
        train += sft.sub_steps(sources["puzzles"], scfg.seed, int(args.sub_steps * len(sources["puzzles"])))
        random.Random(scfg.seed).shuffle(train)
    if args.freeze_embeddings:  # issue 14's ood_range lever: SFT cannot move numbers 21-60 away from the copy
        load = models.load_model
        models.load_model = lambda *a, **k: _frozen(load(*a, **k))
    if args.positions:  # Ruoss et al. 2023's randomised positions, in SFT only (positions_probe.py)
        from positions_probe import install as random_positions
        random_positions(args.positions, scfg.seed)
    start = time.perf_counter()
    fit = tuning.train_sft(scfg, train, work / "model", base=args.base, stage="probe")
    minutes = (time.perf_counter() - start) / 60
    tok = models.load_tokenizer(args.base)
    model = models.load_merged(args.base, adapter=str(work / "model"))
    row = {"puzzles": {k: v for k, v in vars(pcfg).items() if k in ("trace", "hints", "bound", "train_n_from",
                                                                            "train_size")},
           "sft": {k: v for k, v in vars(scfg).items() if k in ("lora_r", "lora_alpha", "learning_rate",
                                                               "max_steps", "batch_size", "mix_arithmetic", "mix_lists",
                                                               "list_steps")},
           "picks": args.picks, "kind": args.kind, "sub_steps": args.sub_steps,
           "labels": args.labels, "label_prefix": args.label_prefix, "counts": args.counts, "positions": args.positions,
           "freeze_embeddings": args.freeze_embeddings,
           "minutes": round(minutes, 1), "examples_seen": scfg.max_steps * scfg.batch_size,
           "final_loss": fit["final_loss"]}
    per_item = {}
    for name in ("in_domain", "ood_range", "ood_components"):
        items = io.read_jsonl(work / f"puzzles/{name}.jsonl")
        if args.labels:
            items = [label(it, args.labels, pcfg.seed, args.label_prefix) for it in items]
        prompts = [count(it)["prompt"] if args.counts else it["prompt"] for it in items]
        # a counted five-integer gold is 64-73 tokens (plain: at most 61), past the protocol's 64
        outs, _ = generation.generate(model, tok, prompts, batch_size=64, stop=protocol.STOP["puzzles"],
                                      max_new_tokens=96 if args.counts else protocol.MAX_NEW_TOKENS["puzzles"])
        if args.counts:  # the one checker judges the answer without its counts, against the plain item
            per_item[f"{name}/raw_outputs"] = outs
            outs = [strip(o) for o in outs]
        if args.labels:  # the one checker reads past the letters (answers._normal), so answers go to it as written
            row[f"{name}/labelled"] = sum("hints" in it for it in items)
        ok = [checker.score(it, o) for it, o in zip(items, outs)]
        lo, hi = stats.wilson(sum(ok), len(ok))
        row[name] = f"{sum(ok) / len(ok):.3f} [{lo:.3f}, {hi:.3f}]"
        per_item[name] = ok
        # does the answer's first step use numbers of the prompt? (the default SFT's ood_range: 0 of 500 did)
        # read in the gold's order (answers.diagnose): an unwind answer's first step starts at the target
        reasons = [answers.diagnose(it["numbers"], it["target"], o, it["completion"]) or ""
                   for it, o in zip(items, outs)]
        copies = [not r.startswith("operand not available: step 1 ") for r in reasons]
        row[f"{name}/first_step_copies"] = round(sum(copies) / len(items), 3)
        per_item[f"{name}/first_step_copies"] = copies  # --pair pairs these too
        per_item[f"{name}/outputs"] = outs
        print(name, outs[:3], flush=True)
    io.write_json(work / "scores.json", {"row": row, "items": per_item})
    print("ROW", json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
