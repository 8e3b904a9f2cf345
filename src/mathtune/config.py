"""Typed params per stage, read from params.yaml; an unknown key or a wrong type names the key.

Params flow one way: params.yaml -> dvc.yaml `cmd` (`-p key ${stage.key}`) -> papermill -> the
notebook's globals -> `load(stage, globals())` -> a frozen dataclass. A param left un-injected (a
notebook run by hand in JupyterLab) comes from params.yaml, so nothing is configured twice.
Nested params are flattened with "_": `sft.mix.irsp` is the field `mix_irsp`.

    cfg = config.load("puzzles")              # params.yaml only
    cfg = config.load("puzzles", globals())   # in a notebook: papermill's injected values win
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass

import yaml

from mathtune import io


@dataclass(frozen=True)
class Puzzles:
    seed: int
    ops: str
    train_size: int
    train_n_from: int
    train_n_min: int
    train_n_max: int
    value_min: int
    value_max: int
    bound: int
    trace: str
    hints: int
    test_size: int
    ood_value_max: int
    ood_n: int
    prime: int
    workers: int


@dataclass(frozen=True)
class Dual:
    seed: int
    gsm8k_size: int
    puzzles_size: int
    irsp_mask_steps: int


@dataclass(frozen=True)
class Base:
    seed: int
    model: str
    vocab_size: int
    number_digits: int
    number_embedding: str
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    seq_len: int
    corpus_gsm8k: int
    corpus_arithmetic: int
    arithmetic_small: int
    max_steps: int
    batch_size: int
    learning_rate: float


@dataclass(frozen=True)
class Mining:
    seed: int
    instructor: str
    sample_gsm8k: int
    sample_puzzles: int
    num_types: int
    per_type: int
    batch_size: int
    rounds: int
    round_max_steps: int
    learning_rate: float
    heldout_per_type: int
    match_hardness: bool
    kept_share: float


@dataclass(frozen=True)
class Sft:
    seed: int
    load_in_4bit: bool
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    learning_rate: float
    max_steps: int
    batch_size: int
    max_length: int
    gradient_checkpointing: str
    save_steps: int
    mix_gsm8k: float
    mix_puzzles: float
    mix_irsp: float
    mix_ir: float
    mix_arithmetic: float
    mix_one_shot: float
    mix_sub_steps: float
    mix_lists: float
    list_steps: int


@dataclass(frozen=True)
class Dpo:
    seed: int
    load_in_4bit: bool
    questions_gsm8k: int
    questions_puzzles: int
    k: int
    temperature: float
    top_p: float
    batch_size: int
    per_device_train_batch_size: int
    gold_fallback: bool
    beta: float
    loss_type: str
    learning_rate: float
    max_steps: int
    gradient_checkpointing: str
    save_steps: int
    rounds: int
    fresh_rounds: bool
    greedy: bool


@dataclass(frozen=True)
class Evaluate:
    seed: int
    gsm8k_test: str
    gsm8k_limit: int
    gsm8k_protocol: str
    num_fewshot: int
    max_gen_toks: int
    puzzles_limit: int
    batch_size: int


STAGES = {"puzzles": Puzzles, "dual": Dual, "base": Base, "sft": Sft, "mining": Mining,
          "dpo": Dpo, "evaluate": Evaluate}


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}_"))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _coerce(stage: str, key: str, value, kind):
    """Check one value's type; papermill hands strings for some values (DVC renders `true`)."""
    where = f"params {stage}.{key}"
    if kind is bool:
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, bool):
            return value
    elif kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif kind is str:
        if isinstance(value, bool):  # YAML reads `true` as a bool; a str param may take it (gradient_checkpointing)
            return str(value).lower()
        if isinstance(value, (str, int, float)):
            return str(value)
    raise TypeError(f"{where}: expected {kind.__name__}, got {type(value).__name__} {value!r}")


def stage_params(stage: str) -> dict:
    """params.yaml's flattened block for `stage` (raises naming the stage if absent)."""
    params = yaml.safe_load(io.path("params.yaml").read_text()) or {}
    if stage not in params:
        raise KeyError(f"params.yaml has no `{stage}:` block")
    return _flatten(params[stage])


def load(stage: str, injected: dict | None = None):
    """The typed params of `stage`: params.yaml's values, overridden by `injected` ones (papermill)."""
    if stage not in STAGES:
        raise KeyError(f"unknown stage {stage!r}; stages: {', '.join(STAGES)}")
    cls = STAGES[stage]
    hints = typing.get_type_hints(cls)
    values = stage_params(stage)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise KeyError(f"params.yaml: unknown key(s) {', '.join(f'{stage}.{k}' for k in unknown)}; "
                       f"known: {', '.join(hints)}")
    for key in hints:
        if injected and key in injected:
            values[key] = injected[key]
    missing = [k for k in hints if k not in values]
    if missing:
        raise KeyError(f"params.yaml: missing key(s) {', '.join(f'{stage}.{k}' for k in missing)}")
    return cls(**{k: _coerce(stage, k, values[k], hints[k]) for k in hints})


def asdict(cfg) -> dict:
    return dataclasses.asdict(cfg)
