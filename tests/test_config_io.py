import json

import pytest
import yaml

from conftest import REPO
from mathtune import config, io


def test_params_load_typed_and_injected_values_win(repo):
    cfg = config.load("sft")
    assert isinstance(cfg.mix_irsp, float) and isinstance(cfg.load_in_4bit, bool)
    cfg = config.load("sft", {"mix_irsp": 0, "load_in_4bit": "true", "unrelated": 1})
    assert cfg.mix_irsp == 0.0 and cfg.load_in_4bit is True


def test_every_stage_loads_from_the_shipped_params(repo):
    for stage in config.STAGES:
        config.load(stage)


def test_wrong_type_names_the_key_and_the_expected_type(repo):
    with pytest.raises(TypeError, match=r"puzzles\.train_size: expected int, got str 'many'"):
        config.load("puzzles", {"train_size": "many"})
    with pytest.raises(TypeError, match=r"sft\.load_in_4bit: expected bool"):
        config.load("sft", {"load_in_4bit": 1})


def test_unknown_key_is_named(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["dpo"]["betta"] = 0.1
    (repo / "params.yaml").write_text(yaml.safe_dump(params))
    with pytest.raises(KeyError, match=r"dpo\.betta"):
        config.load("dpo")


def test_root_is_found_from_a_subfolder(repo, monkeypatch):
    (repo / "notebooks").mkdir()
    monkeypatch.chdir(repo / "notebooks")
    assert io.root() == repo
    assert config.load("puzzles").seed == 0


def test_malformed_jsonl_line_is_named_by_file_and_line(tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_text('{"id": 1}\n\n{"id": 2\n')
    with pytest.raises(ValueError, match=r"x\.jsonl:3: malformed JSON"):
        io.read_jsonl(f)
    f.write_text('{"id": 1}\n{"other": 2}\n')
    with pytest.raises(ValueError, match=r"x\.jsonl:2: missing field\(s\) id"):
        io.read_jsonl(f, required=("id",))
    with pytest.raises(FileNotFoundError, match="dvc repro"):
        io.read_jsonl(tmp_path / "missing.jsonl")


def test_a_missing_stage_output_names_the_stage_to_run(monkeypatch):
    monkeypatch.chdir(REPO / "notebooks")  # as JupyterLab runs a notebook
    with pytest.raises(FileNotFoundError, match=r"run `dvc repro dual`"):
        io.read_jsonl(io.path("data/dual/no-such-file.jsonl"))
    assert io.producer(io.path("models/sft/adapter_config.json")) == "sft"
    assert io.producer(io.path("metrics/sft.json")) is None  # metrics are not outs


def test_atomic_write_keeps_the_old_file_when_the_writer_dies(tmp_path):
    target = tmp_path / "out.jsonl"
    io.write_jsonl(target, [{"a": 1}])

    def dying():
        yield {"a": 2}
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        io.write_jsonl(target, dying())
    assert [json.loads(x) for x in target.read_text().splitlines()] == [{"a": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]
