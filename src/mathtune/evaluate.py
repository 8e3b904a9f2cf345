"""The evaluate stage: GSM8K accuracy and puzzle pass@1 for every model the pipeline made.

Models: `base`, `sft`, `mining` (SFT after continued fine-tuning on mined data) and `dpo`, each where its
folder (LoRA adapter or whole model) exists. Test sets: GSM8K, the three puzzle sets and `mined_types`
(the mining stage's fresh puzzles per error type, data/mining/heldout.jsonl, never trained on).
Greedy batched generation with the protocol's prompts and stop strings; scoring with the one checker.
GSM8K has two protocols (`evaluate.gsm8k_protocol`, recorded as the `gsm8k/protocol` metric):
- `project`: protocol.py's zero-shot prompt in the model's chat format, scored with lm-evaluation-harness's
  regexes: `strict` (the `#### N` answer), `flexible` (the last number), invalid (no `#### N`);
- `lm-eval`: the harness itself runs its gsm8k task (harness.py, `num_fewshot` worked examples), so the
  number is the one model cards report; the embedded model's 256-token context cannot hold that prompt.
Puzzle pass@1 = the greedy answer verifies (answers.check). An adapter trained on an nf4 base (QLoRA on
CUDA) is evaluated as trained: nf4 base + adapter, unmerged (`<model>/weights` says which).
Writes data/predictions/<model>/<test set>.jsonl (+ fingerprint.json: an interactive re-run with the
same weights and items re-scores those outputs in seconds instead of generating); metrics keys are flat:
`sft/gsm8k/strict`, `sft/puzzles/in_domain/pass@1`, ... Run with `dvc repro evaluate`.
"""
from __future__ import annotations

from pathlib import Path

from mathtune import answers, checker, generation, gsm8k, harness, io, models, protocol, stats

PUZZLE_SETS = ("in_domain", "ood_range", "ood_components")
MINED = "mined_types"  # the mining stage's held-out items: does mining fix what it mined?
ADAPTERS = {"base": None, "sft": "models/sft", "mining": "models/mining", "dpo": "models/dpo"}


def present() -> dict[str, str | None]:
    """The models to evaluate: base always, the others where their adapter (or whole model) folder exists."""
    return {name: a for name, a in ADAPTERS.items()
            if a is None or models.is_trained(a)}


def protocol_name(cfg) -> str:
    if cfg.gsm8k_protocol == "project":
        return f"project zero-shot v{protocol.PROTOCOL_VERSION}"
    if cfg.gsm8k_protocol == "lm-eval":
        return f"lm-eval gsm8k v3, {cfg.num_fewshot}-shot, max_gen_toks {cfg.max_gen_toks}"
    raise ValueError(f"params evaluate.gsm8k_protocol: expected project or lm-eval, got {cfg.gsm8k_protocol!r}")


def test_sets(cfg) -> dict[str, list[dict]]:
    sets = {"gsm8k": gsm8k.load(io.path(cfg.gsm8k_test))[:cfg.gsm8k_limit]}
    for name in PUZZLE_SETS:
        items = io.read_jsonl(io.path(f"data/puzzles/{name}.jsonl"), required=("numbers", "target", "prompt"))
        if not items:
            raise ValueError(f"data/puzzles/{name}.jsonl is empty: re-run `dvc repro puzzles`")
        sets[name] = items[:cfg.puzzles_limit]
    mined = io.path("data/mining/heldout.jsonl")  # fresh puzzles per mined error type, never trained on
    if mined.is_file() and (items := io.read_jsonl(mined, required=("numbers", "target", "prompt"))):
        sets[MINED] = items
    return sets


def rate(key: str, ok: list[bool]) -> dict:
    """A pass rate with its 95 % Wilson interval, as flat metrics: key, key_ci95_low, key_ci95_high."""
    lo, hi = stats.wilson(sum(ok), len(ok))
    return {key: sum(ok) / len(ok), f"{key}_ci95_low": lo, f"{key}_ci95_high": hi}


def score_set(name: str, items: list[dict], outputs: list[str]) -> tuple[dict, list[dict]]:
    rows, metrics = [], {}
    if name == "gsm8k":
        strict = [checker.score(it, o, "strict") for it, o in zip(items, outputs)]
        flexible = [checker.score(it, o, "flexible") for it, o in zip(items, outputs)]
        invalid = [gsm8k.extract(o, "strict") is None for o in outputs]
        metrics = {**rate("gsm8k/strict", strict), **rate("gsm8k/flexible", flexible),
                   "gsm8k/invalid": sum(invalid) / len(items), "gsm8k/n": len(items)}
        for it, o, s, f in zip(items, outputs, strict, flexible):
            rows.append({"id": it["id"], "output": o, "gold": it["answer"], "strict": s, "flexible": f})
    else:
        ok = [checker.score(it, o) for it, o in zip(items, outputs)]
        metrics = {**rate(f"puzzles/{name}/pass@1", ok), f"puzzles/{name}/n": len(items)}
        for it, o, s in zip(items, outputs, ok):
            rows.append({"id": it["id"], "output": o, "gold": it["completion"], "correct": s,
                         "reason": None if s else answers.diagnose(it["numbers"], it["target"], o, it["completion"])})
    return metrics, rows


def fingerprint(cfg, adapter: str | None, sets: dict) -> dict:
    """What a model's predictions depend on: weights, test items, protocol and batching."""
    files = sorted(io.path(models.BASE_DIR).glob("*.safetensors"))
    if adapter is not None:
        files += sorted(io.path(adapter).glob("*.safetensors"))
    return {"protocol": protocol.PROTOCOL_VERSION, "gsm8k": protocol_name(cfg), "batch_size": cfg.batch_size,
            "weights": {str(f.relative_to(io.root())): io.md5(f) for f in files},
            "items": {k: [it["id"] for it in v] for k, v in sets.items()}}


def cached_outputs(folder: Path, stamp: dict, sets: dict) -> dict[str, list[str]] | None:
    """Greedy outputs saved by an earlier run with the same fingerprint, else None.

    Under `dvc repro` the folder was removed before the stage ran (DVC clears outs), so this only
    spares an interactive re-run the generation: it re-scores what the pipeline generated.
    """
    if not (folder / "fingerprint.json").is_file() or io.read_json(folder / "fingerprint.json") != stamp:
        return None
    outs = {}
    for set_name in sets:
        rows = io.read_jsonl(folder / f"{set_name}.jsonl", required=("output",)) \
            if (folder / f"{set_name}.jsonl").is_file() else []
        if len(rows) != len(sets[set_name]):
            return None
        outs[set_name] = [r["output"] for r in rows]
    return outs


def evaluate_model(cfg, name: str, adapter: str | None, sets: dict, out_dir: Path) -> dict:
    models.set_seed(cfg.seed)
    folder, stamp = out_dir / name, fingerprint(cfg, adapter, sets)
    cached = cached_outputs(folder, stamp, sets)
    as_4bit = models.trained_in_4bit(adapter)
    if cached is None:
        tokenizer = models.load_tokenizer(models.LOCAL)
        model = models.load_merged(models.LOCAL, adapter=adapter, load_in_4bit=as_4bit)
    metrics, tokens, seconds = {}, 0, 0.0
    metrics[f"{name}/weights"] = ("nf4 base + adapter, unmerged" if as_4bit else
                                  "base + adapter, merged" if adapter and not models.is_full_model(adapter)
                                  else "whole model")
    for set_name, items in sets.items():
        source = "gsm8k" if set_name == "gsm8k" else "puzzles"
        if set_name == "gsm8k" and cfg.gsm8k_protocol == "lm-eval":
            m, rows = harness.gsm8k(models.LOCAL, adapter, "data/gsm8k/train.jsonl", cfg.gsm8k_test, limit=len(items),
                                    num_fewshot=cfg.num_fewshot, batch_size=cfg.batch_size,
                                    max_gen_toks=cfg.max_gen_toks)
            rows = [{**r, "id": it["id"], "gold": it["answer"]} for r, it in zip(rows, items)]
            metrics[f"{name}/gsm8k/invalid"] = round(m["invalid"], 4)
            for k in ("strict", "flexible"):  # the harness's numbers, with the same intervals as `project`'s
                metrics.update({f"{name}/{key}": round(v, 4)
                                for key, v in rate(f"gsm8k/{k}", [r[k] for r in rows]).items()})
            if as_4bit:  # lm-eval's HF loader gets the adapter on the unquantised base: say so beside the number
                metrics[f"{name}/gsm8k/weights"] = "base + adapter, unquantised (lm-eval)"
            metrics[f"{name}/gsm8k/n"] = len(rows)
            io.write_jsonl(folder / "gsm8k.jsonl", rows)
            continue
        if cached is None:
            outs, st = generation.generate(model, tokenizer, [it["prompt"] for it in items],
                                           batch_size=cfg.batch_size, max_new_tokens=protocol.MAX_NEW_TOKENS[source],
                                           stop=protocol.STOP[source], desc=f"evaluate/{name}/{set_name}")
            tokens, seconds = tokens + st["tokens"], seconds + st["seconds"]
        else:
            outs = cached[set_name]
        m, rows = score_set(set_name, items, outs)
        metrics.update({f"{name}/{k}": (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()})
        io.write_jsonl(folder / f"{set_name}.jsonl", rows)
    io.write_json(folder / "fingerprint.json", stamp)
    if cached is None:
        metrics[f"{name}/tokens_per_s"] = round(tokens / max(seconds, 1e-9), 1)
    else:  # keep the pipeline's speed figure rather than report a rescoring's
        old = io.path("metrics/evaluate.json")
        metrics[f"{name}/tokens_per_s"] = io.read_json(old).get(f"{name}/tokens_per_s") if old.is_file() else None
    return metrics


def run(cfg, out_dir) -> dict:
    sets = test_sets(cfg)
    metrics = {"gsm8k/protocol": protocol_name(cfg)}
    for name, adapter in present().items():
        metrics.update(evaluate_model(cfg, name, adapter, sets, Path(out_dir)))
    return metrics


def scaling_row(metrics: dict) -> dict:
    """The data-scaling point of this run: train-set size and the fine-tuned model's pass@1 per test set.

    One row per run in plots/evaluate/scaling.csv; `dvc plots diff <experiments>` (dvc.yaml's
    top-level `puzzles_scaling` plot) draws a train_size sweep from it.
    """
    model = next(m for m in ("dpo", "mining", "sft", "base") if f"{m}/puzzles/in_domain/pass@1" in metrics)
    with open(io.path("data/puzzles/train.jsonl"), "rb") as f:
        train_size = sum(1 for _ in f)
    return {"train_size": train_size, "model": model,
            **{name: metrics[f"{model}/puzzles/{name}/pass@1"] for name in PUZZLE_SETS}}


def stage(cfg) -> dict:
    """`dvc repro evaluate`: predictions under data/predictions/ and flat metrics."""
    return run(cfg, io.path("data/predictions"))
