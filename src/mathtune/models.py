"""Loading models: a Hugging Face id, a local path, or `local` (the embedded base the `base` stage builds).

Also the LoRA and 4-bit configs, device and dtype choice, seeding, the chat-formatted prompt and the
environment record every stage's metrics carry.

    tok = models.load_tokenizer("local")
    model = models.load_model("local", adapter="models/sft")      # base + SFT LoRA adapter
    text = models.chat_prompt(tok, "Make 3 from 1, 2.")
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import random
from importlib import metadata
from pathlib import Path

import numpy as np
import torch
from peft import LoraConfig, PeftModel, prepare_model_for_kbit_training
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, GenerationConfig

from mathtune import io, protocol

LOCAL = "local"
BASE_DIR = "models/base"


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch; on CUDA ask torch for deterministic algorithms where it has them."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.cuda.manual_seed_all(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False


def environment(seed: int) -> dict:
    """What produced a stage's numbers: library versions, device, seed, protocol version."""
    env = {"python": platform.python_version(), "seed": seed, "protocol": protocol.PROTOCOL_VERSION,
           "device": torch.cuda.get_device_name(0) if torch.cuda.is_available()
           else f"cpu ({os.cpu_count()} cores, {torch.backends.cpu.get_cpu_capability()})",
           "training_precision": training_precision()}
    for pkg in ("torch", "transformers", "peft", "trl", "bitsandbytes", "dvc"):
        try:
            env[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            env[pkg] = None
    return env


def resolve(name: str) -> str:
    """`local` -> the base stage's folder; a path that exists -> its absolute path; else a hub id.

    A name that looks like a path (starts with `.`, `/` or `models/`) but does not exist is an error
    here, not a confusing hub lookup later.
    """
    if name == LOCAL:
        name = BASE_DIR
    p = io.path(name)
    if p.exists():
        return str(p)
    if name.startswith((".", "/", "models/", "~")):
        raise FileNotFoundError(f"model path {name!r} does not exist"
                                + (" (run `dvc repro base` first)" if name == BASE_DIR else ""))
    return name


def load_tokenizer(name: str):
    tok = AutoTokenizer.from_pretrained(resolve(name), trust_remote_code=False)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"  # batched generation appends on the right
    return tok


def dtype() -> torch.dtype:
    """bf16 on GPUs that have it, fp16 on older ones (T4/V100 class), fp32 on CPU."""
    if not torch.cuda.is_available():
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def mixed_precision() -> dict:
    """Trainer's precision flags: on CUDA those of dtype(); on a CPU with native bf16 matmuls (oneDNN: AVX512-BF16
    or AMX) bf16 autocast over fp32 weights: 0.60-0.70x the fp32 step time on the AMD EPYC of sessions 43-45
    (benchmarks/cpu_bf16.py), base 0.66x and SFT 0.75x in its `make repro`, no score moved (docs/sessions.md
    "Session 45"); fp32 on other CPUs, where bf16 is emulated. Generation stays fp32 (autocast slows it there)."""
    if device() == "cpu":
        return {"bf16": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()), "fp16": False}
    return {"bf16": dtype() == torch.bfloat16, "fp16": dtype() == torch.float16}


def training_precision() -> str:
    """`bf16`, `fp16` or `fp32`: what mixed_precision() trains in here (every stage's environment record)."""
    flags = mixed_precision()
    return "bf16" if flags["bf16"] else "fp16" if flags["fp16"] else "fp32"


def gradient_checkpointing(value: str) -> bool:
    """The `gradient_checkpointing` param: `auto` = on with CUDA (a Hugging Face model's 50-150k-token
    vocabulary makes activations and fp32 logits several GB), off on CPU (the embedded model is small,
    and recomputation costs about a third more time); `true` / `false` force it."""
    if value not in ("auto", "true", "false"):
        raise ValueError(f"gradient_checkpointing: expected auto, true or false, got {value!r}")
    return device() == "cuda" if value == "auto" else value == "true"


def quantization(load_in_4bit: bool) -> BitsAndBytesConfig | None:
    """nf4 4-bit weights with double quantisation and bf16/fp32 compute: the QLoRA recipe."""
    if not load_in_4bit:
        return None
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=dtype())


def is_full_model(folder) -> bool:
    """A fine-tuned folder that holds whole weights (sft.lora_r: 0), not a LoRA adapter."""
    folder = io.path(folder)
    return (folder / "config.json").is_file() and not (folder / "adapter_config.json").is_file()


def is_trained(folder) -> bool:
    """A fine-tuned folder a later stage can load: a LoRA adapter or whole weights."""
    return (io.path(folder) / "adapter_config.json").is_file() or is_full_model(folder)


def load_model(name: str, adapter: str | None = None, load_in_4bit: bool = False, trainable: bool = False):
    """A causal LM on the project's device, optionally with a fine-tuned folder on top.

    `adapter` is a LoRA adapter folder (loaded onto `name`), or a whole fine-tuned model (lora_r: 0),
    which is then loaded instead of `name`.
    """
    if adapter is not None and is_full_model(adapter):
        name, adapter = str(io.path(adapter)), None
    model = AutoModelForCausalLM.from_pretrained(resolve(name), dtype=dtype(), trust_remote_code=False,
                                                 quantization_config=quantization(load_in_4bit),
                                                 device_map=device())
    # generation settings are the protocol's, never the checkpoint's: a shipped generation_config.json
    # (repetition_penalty, top_k, ...) would otherwise fill every setting a generate() call leaves unset
    model.generation_config = GenerationConfig(bos_token_id=model.config.bos_token_id,
                                               eos_token_id=model.config.eos_token_id,
                                               pad_token_id=model.config.pad_token_id)
    if adapter is not None:
        folder = io.path(adapter)
        if not (folder / "adapter_config.json").is_file():
            raise FileNotFoundError(f"no LoRA adapter or model at {adapter!r} (adapter_config.json missing): "
                                    f"run the stage that writes it (`dvc repro`)")
        if load_in_4bit and trainable:
            # QLoRA: fp32 norms and input grads on the frozen 4-bit base, as peft's recipe does before
            # wrapping (TRL does this itself only when it creates the adapter from a peft_config)
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
        model = PeftModel.from_pretrained(model, str(folder), is_trainable=trainable)
        if trainable:  # gradient checkpointing needs grads at the frozen embeddings' output to reach LoRA
            model.enable_input_require_grads()
    if not trainable:
        model.eval()
    return model


def load_merged(name: str, adapter: str | None = None, load_in_4bit: bool | None = None):
    """load_model for generation: a LoRA adapter is merged into its base (same outputs, faster generation),
    except on an nf4 base, where merging would round the weights. `load_in_4bit=None` loads the base as the
    adapter was trained (trained_in_4bit), so no caller has to remember to."""
    if load_in_4bit is None:
        load_in_4bit = trained_in_4bit(adapter)
    model = load_model(name, adapter=adapter, load_in_4bit=load_in_4bit)
    if hasattr(model, "merge_and_unload") and not load_in_4bit:
        model = model.merge_and_unload()
    return model


def trained_in_4bit(folder) -> bool:
    """Whether the adapter in folder was trained on an nf4 base (tuning.save_adapter records it); no folder
    (the base alone) is not."""
    if folder is None:
        return False
    stamp = io.path(folder) / "training.json"
    return stamp.is_file() and json.loads(stamp.read_text()).get("quantization") == "nf4-4bit"


def lora_config(cfg) -> LoraConfig:
    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")


def chat_prompt(tokenizer, prompt: str | list[dict]) -> str:
    """`prompt` (one user turn, or a list of chat messages) as the model's chat template renders it,
    ready for the assistant's answer."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def peak_memory_mb() -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def checkpoint_dir(stage: str) -> Path:
    """Where SFT/DPO keep resumable checkpoints (git- and DVC-ignored, removed after success)."""
    return io.path(f"checkpoints/{stage}")


def complete_checkpoint(folder: Path) -> str | None:
    """The newest checkpoint-N under folder that a kill did not cut short, else None.

    Trainer writes trainer_state.json last, and rotating old checkpoints deletes files one by one, so
    a folder counts only with its state, weights, optimizer and scheduler all present (a kill during
    a save or a rotation leaves one of them missing) and its state readable JSON (a kill while the state
    is written leaves it empty or cut: found by the kill test on a loaded machine, session 37).
    """
    def readable(state: Path) -> bool:
        try:
            json.loads(state.read_text())
        except (OSError, ValueError):
            return False
        return True

    def step(p: Path) -> int:
        return int(p.name.split("-")[-1]) if p.name.split("-")[-1].isdigit() else -1
    for ckpt in sorted(folder.glob("checkpoint-*"), key=step, reverse=True):
        files = {f.name for f in ckpt.iterdir()} if ckpt.is_dir() else set()
        weights = files & {"adapter_model.safetensors", "model.safetensors", "adapter_model.bin", "pytorch_model.bin"}
        if weights and {"trainer_state.json", "optimizer.pt", "scheduler.pt"} <= files \
                and readable(ckpt / "trainer_state.json"):
            return str(ckpt)
    return None


def resumable(stage: str, fingerprint: dict) -> str | None:
    """The last checkpoint of an interrupted run with the same params and inputs, else None (and a clean dir)."""
    folder = checkpoint_dir(stage)
    stamp = folder / "fingerprint.json"
    if folder.is_dir() and stamp.is_file() and json.loads(stamp.read_text()) == fingerprint:
        return complete_checkpoint(folder)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    io.write_json(stamp, fingerprint)
    return None
