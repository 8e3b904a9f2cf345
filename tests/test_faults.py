"""Faults and bad input: a killed training run resumes; bad files and params get one clear error."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO
from mathtune import config, evaluate, io

TRAIN = textwrap.dedent("""
    import json, sys, types
    sys.path.insert(0, {tests!r})
    from conftest import tiny_items
    from mathtune import tuning
    cfg = types.SimpleNamespace(seed=0, load_in_4bit=False, lora_r=4, lora_alpha=8, lora_dropout=0.0,
                                learning_rate=1e-3, max_steps=40, batch_size=2, max_length=128, gradient_checkpointing="false",
                                save_steps=2)
    m = tuning.train_sft(cfg, tiny_items(4, 8), "models/sft", base={base!r}, stage="sft")
    print("RESULT", json.dumps({{"resumed_from": m["resumed_from"], "loss": m["train_loss"]}}))
""")


@pytest.mark.slow
def test_killed_sft_run_resumes_from_its_last_checkpoint(tiny_model, repo):
    script = TRAIN.format(tests=str(REPO / "tests"), base=tiny_model)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=repo, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    ckpts = repo / "checkpoints/sft"
    deadline = time.time() + 300
    while time.time() < deadline and not list(ckpts.glob("checkpoint-*/trainer_state.json")):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = sorted(ckpts.glob("checkpoint-*"))
    assert saved, "no checkpoint was written before the kill"
    assert not (repo / "models/sft").exists()  # nothing half-written where DVC looks
    out = subprocess.run([sys.executable, "-c", script], cwd=repo, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.split("RESULT ")[-1])
    assert result["resumed_from"] and "checkpoint-" in result["resumed_from"]
    assert (repo / "models/sft/adapter_config.json").is_file()
    assert not ckpts.exists()  # checkpoints are removed once the stage's output is in place


def test_changed_params_do_not_resume_a_stale_checkpoint(repo):
    from mathtune import models
    assert models.resumable("sft", {"params": {"lr": 1}}) is None
    (models.checkpoint_dir("sft") / "checkpoint-4").mkdir()
    for name in ("trainer_state.json", "optimizer.pt", "scheduler.pt", "adapter_model.safetensors"):
        (models.checkpoint_dir("sft") / "checkpoint-4" / name).write_text("{}")
    assert models.resumable("sft", {"params": {"lr": 1}}).endswith("checkpoint-4")
    assert models.resumable("sft", {"params": {"lr": 2}}) is None
    assert not (models.checkpoint_dir("sft") / "checkpoint-4").exists()


def test_an_empty_test_split_is_named(repo):
    (repo / "data/puzzles").mkdir(parents=True)
    for name in ("in_domain", "ood_range", "ood_components"):
        io.write_jsonl(repo / f"data/puzzles/{name}.jsonl", [] if name == "ood_range" else
                       [{"numbers": [1, 2], "target": 3, "prompt": "p", "completion": "1+2=3"}])
    cfg = config.load("evaluate", {"gsm8k_test": str(REPO / "data/gsm8k/test_first300.jsonl")})
    with pytest.raises(ValueError, match=r"data/puzzles/ood_range\.jsonl is empty: re-run `dvc repro puzzles`"):
        evaluate.test_sets(cfg)


def test_an_empty_gsm8k_file_is_named(tmp_path):
    from mathtune import gsm8k
    (tmp_path / "g.jsonl").write_text("")
    with pytest.raises(ValueError, match=r"g\.jsonl: no GSM8K items"):
        gsm8k.load(tmp_path / "g.jsonl")
    (tmp_path / "g.jsonl").write_text('{"question": "q"}\n')
    with pytest.raises(ValueError, match=r"g\.jsonl:1: missing field\(s\) answer"):
        gsm8k.load(tmp_path / "g.jsonl")


def test_resume_skips_a_checkpoint_a_kill_cut_short(tmp_path):
    from mathtune import models
    full = {"trainer_state.json", "optimizer.pt", "scheduler.pt", "adapter_model.safetensors", "rng_state.pth"}
    for step, names in ((4, full), (8, full - {"trainer_state.json"}), (12, full - {"adapter_model.safetensors"}),
                        (16, full)):
        (tmp_path / f"checkpoint-{step}").mkdir()
        for n in names:
            (tmp_path / f"checkpoint-{step}" / n).write_text('{"global_step": 4}' if n == "trainer_state.json" else "x")
    (tmp_path / "checkpoint-16" / "trainer_state.json").write_text('{"global_st')  # killed while the state was written
    assert models.complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-4")
    assert models.complete_checkpoint(tmp_path / "none") is None
