"""The sft stage: (Q)LoRA supervised fine-tuning with TRL's SFTTrainer on a weighted data mix.

The mix draws from five sources, each scaled by its `sft.mix.<source>` weight (0 drops it, 0.5 keeps
a seeded half, 2 repeats it twice): GSM8K train CoT, puzzle train, the dual stage's IRSP and IR
instances, and the mining stage's targeted data. So each arm of the dual-tuning ablation is one
`dvc exp run -S sft.mix.irsp=0 ...`. Records are prompt/completion pairs, so TRL puts the loss on
completion tokens only. On CUDA `sft.load_in_4bit` loads the base in nf4 (QLoRA, bf16 compute).
Checkpoints go to checkpoints/sft and a killed run resumes from the last one.
Run with `dvc repro sft`.
"""
from __future__ import annotations

import random
import shutil
import time

from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from mathtune import config, io, models

SOURCES = ("gsm8k", "puzzles", "irsp", "ir", "mining")


def build_mix(cfg, sources: dict[str, list[dict]]) -> tuple[list[dict], dict]:
    """Records of each source scaled by its mix weight, shuffled with the stage seed; and counts."""
    rng = random.Random(cfg.seed)
    mix, counts = [], {}
    for name in SOURCES:
        weight, items = getattr(cfg, f"mix_{name}"), sources.get(name, [])
        if weight < 0:
            raise ValueError(f"params sft.mix.{name}: must be >= 0, got {weight}")
        whole, part = int(weight), weight - int(weight)
        chosen = items * whole + rng.sample(items, round(part * len(items)))
        counts[f"mix/{name}"] = len(chosen)
        mix += chosen
    if not mix:
        raise ValueError("the SFT mix is empty: every sft.mix weight is 0 or its source has no data")
    rng.shuffle(mix)
    return mix, counts


def to_dataset(tokenizer, records: list[dict]) -> Dataset:
    """prompt = the chat-formatted user turn, completion = the gold answer (TRL appends EOS)."""
    return Dataset.from_dict({"prompt": [models.chat_prompt(tokenizer, r["prompt"]) for r in records],
                              "completion": [r["completion"] for r in records]})


def make_trainer(cfg, records: list[dict], base: str = models.LOCAL) -> SFTTrainer:
    """TRL's SFTTrainer with a fresh LoRA adapter on `base` (nf4 4-bit if cfg.load_in_4bit)."""
    models.set_seed(cfg.seed)
    on_cuda = models.device() == "cuda"
    tokenizer = models.load_tokenizer(base)
    tokenizer.padding_side = "right"
    model = models.load_model(base, load_in_4bit=cfg.load_in_4bit, trainable=True)
    args = SFTConfig(output_dir=str(models.checkpoint_dir("sft")), max_steps=cfg.max_steps,
                     per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                     lr_scheduler_type="cosine", warmup_steps=max(1, cfg.max_steps // 20),
                     logging_steps=max(1, cfg.max_steps // 50), save_steps=cfg.save_steps, save_total_limit=1,
                     max_length=cfg.max_length, report_to=[], seed=cfg.seed, data_seed=cfg.seed,
                     use_cpu=not on_cuda, bf16=on_cuda, gradient_checkpointing=False, dataloader_num_workers=0,
                     include_num_input_tokens_seen="non_padding")
    return SFTTrainer(model=model, args=args, train_dataset=to_dataset(tokenizer, records), processing_class=tokenizer,
                      peft_config=models.lora_config(cfg))


def train(cfg, records: list[dict], out_dir, base: str = models.LOCAL) -> dict:
    """LoRA-train `base` on records; save the adapter (and tokenizer) to out_dir."""
    trainer = make_trainer(cfg, records, base)
    tokenizer = trainer.processing_class
    resume = models.resumable("sft", {"params": config.asdict(cfg), "records": len(records),
                               "first": records[0]["id"], "last": records[-1]["id"]})
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    with io.atomic_path(out_dir) as tmp:
        trainer.model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    shutil.rmtree(models.checkpoint_dir("sft"), ignore_errors=True)
    tokens = int(trainer.state.num_input_tokens_seen) or None
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    curve = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    return {"examples": len(records), "trainable_parameters": trainable,
            "quantization": "nf4-4bit" if cfg.load_in_4bit else "none (LoRA on full-precision weights)",
            "seconds": round(seconds, 1), "train_loss": round(result.training_loss, 4),
            "final_loss": curve[-1]["loss"] if curve else None,
            "tokens_seen": tokens, "tokens_per_s": round(tokens / seconds, 1) if tokens else None,
            "peak_memory_mb": round(models.peak_memory_mb(), 1), "resumed_from": resume, "loss_curve": curve}


def stage(cfg) -> dict:
    """`dvc repro sft`: models/sft (LoRA adapter) from the mix of all training sources."""
    from mathtune import gsm8k
    sources = {"gsm8k": gsm8k.load(io.path("data/gsm8k/train.jsonl")),
               "puzzles": io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("prompt", "completion")),
               "irsp": io.read_jsonl(io.path("data/dual/irsp.jsonl"), required=("prompt", "completion")),
               "ir": io.read_jsonl(io.path("data/dual/ir.jsonl"), required=("prompt", "completion")),
               "mining": io.read_jsonl(io.path("data/mining/targeted.jsonl"), required=("prompt", "completion"))}
    records, counts = build_mix(cfg, sources)
    return {**counts, **train(cfg, records, io.path("models/sft"))}
