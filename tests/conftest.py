"""Shared fixtures: a throwaway repo root, and a tiny real model (tokenizer + Llama) built by base.py."""
from __future__ import annotations

import random
import shutil
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """An empty repo root (dvc.yaml + the real params.yaml) as the working directory."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    shutil.copy(REPO / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def tiny_items(n_gsm8k: int = 60, n_puzzles: int = 200) -> list[dict]:
    from mathtune import gsm8k, puzzles
    items = gsm8k.load(REPO / "data/gsm8k/train.jsonl")[:n_gsm8k]
    split = puzzles.Split("train", n_puzzles, 3, 4, 1, 20)
    for i in range(n_puzzles):
        items.append(puzzles.record("train", i, *puzzles.generate(random.Random(i), split, "+-*/")))
    return items


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    """A 2-layer Llama (hidden 64) with the project's tokenizer, pre-trained for a few steps."""
    from mathtune import base
    root = tmp_path_factory.mktemp("tiny")
    (root / "dvc.yaml").write_text("stages: {}\n")
    cfg = types.SimpleNamespace(seed=0, model="local", vocab_size=400, number_digits=1, number_embedding="learned",
                                hidden_size=64, num_layers=2, num_heads=2, intermediate_size=128, seq_len=64,
                                corpus_gsm8k=0, max_steps=8, batch_size=8, learning_rate=1e-3)
    import os
    old = os.getcwd()
    os.chdir(root)
    try:
        base.build(cfg, tiny_items(), root / "models/base")
    finally:
        os.chdir(old)
    return str(root / "models/base")
