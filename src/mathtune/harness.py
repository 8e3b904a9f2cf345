"""GSM8K by lm-evaluation-harness itself: its `gsm8k` task (v3) on the project's JSONL files, offline.

The harness's own task file (lm_eval/tasks/gsm8k/gsm8k.yaml: `Question: ...\nAnswer:`, k-shot from
train with its fixed few-shot seed, stops `Question:` `</s>` `<|im_end|>`, strict `#### N` and
flexible last-number filters) is copied with one change: the dataset is the project's local JSONL
(`dataset_path: json`) instead of the hub's `openai/gsm8k`, so it runs with no network. The number is
then the one a model card's `lm_eval --tasks gsm8k` reports, on the first `limit` test items.

evaluate uses this when `evaluate.gsm8k_protocol: lm-eval` (the choice for Hugging Face models; the
embedded model's 256-token context cannot hold 5 worked examples, so its default stays `project`).
The same task file drives the CLI, which is how the README checks that the two agree:

    dir = harness.task_dir(tmp, "data/gsm8k/train.jsonl", "data/gsm8k/test_first300.jsonl")
    lm_eval --model hf --model_args pretrained=models/base,peft=models/sft --tasks mathtune_gsm8k \
        --include_path <dir> --num_fewshot 5 --limit 20 --log_samples --output_path out
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import yaml

from mathtune import io

TASK = "mathtune_gsm8k"
FILTERS = {"strict": "strict-match", "flexible": "flexible-extract"}


def task_dir(folder, train_file, test_file) -> Path:
    """Write the harness's gsm8k task, pointed at local JSONL files, into folder; return folder."""
    import lm_eval
    spec = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks/gsm8k/gsm8k.yaml").read_text())
    spec.pop("tag", None)  # not a member of the harness's own task groups
    spec.update(task=TASK, dataset_path="json", dataset_name=None,
                dataset_kwargs={"data_files": {"train": str(io.path(train_file)), "test": str(io.path(test_file))}})
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TASK}.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return folder


def model_args(base: str, adapter: str | None) -> dict:
    """lm-eval's model_args: the base folder, plus `peft` for a LoRA adapter (a whole model is the base).
    A dict, not the CLI's `k=v,k=v` string, so a path with a comma stays one path."""
    from mathtune import models
    if adapter is not None and models.is_full_model(adapter):
        return {"pretrained": str(io.path(adapter))}
    return {"pretrained": models.resolve(base), **({"peft": str(io.path(adapter))} if adapter is not None else {})}


def gsm8k(base: str, adapter: str | None, train_file, test_file, *, limit: int, num_fewshot: int,
          batch_size: int, max_gen_toks: int | None = None) -> tuple[dict, list[dict]]:
    """lm_eval.simple_evaluate on the local gsm8k task: (metrics, one row per item).

    max_gen_toks: the harness's limit on answer tokens, as the CLI's `--gen_kwargs max_gen_toks=N`;
    None keeps the harness's own default (256).
    metrics: strict / flexible exact match (the harness's numbers) and the invalid rate (no `#### N`).
    """
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import lm_eval
    from lm_eval.tasks import TaskManager
    from mathtune import models
    with tempfile.TemporaryDirectory() as tmp:  # the task file holds absolute paths: never an output
        tasks = TaskManager(include_path=str(task_dir(tmp, train_file, test_file)))
        out = lm_eval.simple_evaluate(model="hf", model_args=model_args(base, adapter), tasks=[TASK],
                                      num_fewshot=num_fewshot, limit=limit, batch_size=batch_size,
                                      device=models.device(), task_manager=tasks, log_samples=True,
                                      gen_kwargs=None if max_gen_toks is None else {"max_gen_toks": max_gen_toks})
    # the harness's own seeds (few-shot sampler 1234): the same examples as its CLI's defaults
    result = out["results"][TASK]
    metrics = {name: result[f"exact_match,{f}"] for name, f in FILTERS.items()}
    # log_samples gives one record per item and filter
    strict = {s["doc_id"]: s for s in out["samples"][TASK] if s["filter"] == FILTERS["strict"]}
    flexible = {s["doc_id"]: s for s in out["samples"][TASK] if s["filter"] == FILTERS["flexible"]}
    rows = [{"id": f"gsm8k/test/{i}", "output": strict[i]["resps"][0][0],
             "strict": bool(strict[i]["exact_match"]), "flexible": bool(flexible[i]["exact_match"]),
             "extracted": strict[i]["filtered_resps"][0]} for i in sorted(strict)]
    metrics["invalid"] = sum(r["extracted"] == "[invalid]" for r in rows) / max(len(rows), 1)
    return metrics, rows
