"""lm-evaluation-harness's own gsm8k task, pointed at the project's JSONL files (offline)."""
from pathlib import Path

import lm_eval
import yaml

from conftest import REPO
from mathtune import evaluate, harness


def test_the_task_is_the_harness_gsm8k_with_local_files_only(tmp_path):
    folder = harness.task_dir(tmp_path, REPO / "data/gsm8k/train.jsonl", REPO / "data/gsm8k/test_first300.jsonl")
    ours = yaml.safe_load((folder / f"{harness.TASK}.yaml").read_text())
    theirs = yaml.safe_load((Path(lm_eval.__file__).parent / "tasks/gsm8k/gsm8k.yaml").read_text())
    changed = {k for k in theirs if ours.get(k) != theirs[k]} | (set(ours) - set(theirs))
    assert changed == {"task", "tag", "dataset_path", "dataset_name", "dataset_kwargs"}
    assert ours["dataset_path"] == "json" and ours["doc_to_text"] == "Question: {{question}}\nAnswer:"
    assert ours["dataset_kwargs"]["data_files"]["test"].endswith("data/gsm8k/test_first300.jsonl")
    assert ours["filter_list"][0]["filter"][0]["regex_pattern"] == "#### (\\-?[0-9\\.\\,]+)"


def test_model_args_take_an_adapter_or_a_whole_model(tiny_model, tmp_path):
    assert harness.model_args(tiny_model, None) == {"pretrained": tiny_model}
    assert harness.model_args(tiny_model, str(tmp_path)) == {"pretrained": tiny_model, "peft": str(tmp_path)}


def test_the_gsm8k_protocol_is_named():
    cfg = type("C", (), {"gsm8k_protocol": "lm-eval", "num_fewshot": 5, "max_gen_toks": 256})
    assert evaluate.protocol_name(cfg) == "lm-eval gsm8k v3, 5-shot, max_gen_toks 256"
    cfg.gsm8k_protocol = "project"
    assert evaluate.protocol_name(cfg).startswith("project zero-shot v")
    cfg.gsm8k_protocol = "harness"
    try:
        evaluate.protocol_name(cfg)
    except ValueError as e:
        assert "evaluate.gsm8k_protocol" in str(e)
    else:
        raise AssertionError("an unknown protocol must be refused")
