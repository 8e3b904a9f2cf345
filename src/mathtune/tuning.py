"""Supervised fine-tuning with TRL's SFTTrainer, shared by the sft stage and mining's rounds.

Records are prompt/completion pairs (the prompt chat-formatted), so TRL masks the prompt and the loss
falls on completions only; TRL appends EOS. `cfg` carries TRL/peft field names: seed, load_in_4bit,
lora_r, lora_alpha, lora_dropout, learning_rate, max_steps, batch_size, max_length, gradient_checkpointing,
save_steps.
`lora_r > 0` trains a LoRA adapter (saved alone); `lora_r: 0` trains every weight and saves the whole
model (LoRA learned the puzzle 2-3x slower at this size in the project notes' runs; README,
"Learning the puzzle"). On CUDA `load_in_4bit` means nf4 QLoRA with bf16 (or fp16) compute; on CPU
it falls back to plain LoRA (below).
Checkpoints go to checkpoints/<stage>; an interrupted run with the same params resumes from the last.

    metrics = tuning.train_sft(cfg, records, "models/sft")
"""
from __future__ import annotations

import json
import shutil
import time

import trl.trainer.utils as trl_utils
from datasets import Dataset
from peft import PeftModel
from trl import SFTConfig, SFTTrainer

from mathtune import io, models


def save_adapter(model, tokenizer, out_dir, quantization: str = "none", **kwargs) -> None:
    """save_pretrained (adapter or whole model, + tokenizer) atomically, with stable bytes.

    peft keeps target_modules as a set, so the saved order follows PYTHONHASHSEED: the same weights
    would get a different adapter_config.json (and DVC hash) in every process. Sorting fixes that.
    peft also writes the base model's absolute path (adapter_config.json, the README model card): it
    is stored relative to the repo root, so a clone in another folder hashes the same outputs.
    """
    with io.atomic_path(out_dir) as tmp:
        if isinstance(model, PeftModel):
            model.save_pretrained(tmp, **kwargs)
        else:  # full fine-tuning (lora_r: 0): the whole model is the policy
            model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        # how the weights were trained: evaluate loads an nf4-trained adapter on the nf4 base, unmerged
        (tmp / "training.json").write_text(json.dumps({"quantization": quantization}, sort_keys=True) + "\n")
        config_file = tmp / "adapter_config.json"
        if config_file.is_file():
            config = json.loads(config_file.read_text())
            if isinstance(config.get("target_modules"), list):
                config["target_modules"] = sorted(config["target_modules"])
            config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        root = str(io.root()) + "/"
        card = tmp / "README.md"
        if card.is_file():
            # the model card's YAML folds a long path at a space onto two lines, where the text replacement
            # below cannot see it: set its base_model field itself (a clone in "my runs/" hashed differently)
            from huggingface_hub import ModelCard
            model_card = ModelCard.load(card)
            data = model_card.data
            data.base_model = data.base_model.replace(root, "") if isinstance(data.base_model, str) else data.base_model
            # base_model:adapter:<path>
            data.tags = [t.replace(root, "") for t in data.tags] if data.tags else data.tags
            model_card.save(card)
        for f in tmp.glob("*"):
            if f.suffix in (".json", ".md") and root in (text := f.read_text()):
                f.write_text(text.replace(root, ""))


def compact_lm_head() -> None:
    """Make TRL's fused LM head score completion positions only, on every device.

    TRL 1.16's fused head (SFT and DPO) drops prompt and pad positions before the vocabulary
    projection only on Triton devices; elsewhere it scores every position, to keep Neuron's tile
    shapes fixed. On CPU that projects ~2/3 wasted positions (a puzzle example is 26 prompt tokens to
    ~26 completion tokens, plus padding): 1.29 -> 1.07 s a step of 64 puzzles here
    (benchmarks/sft_throughput.py), 1.74 -> 1.20 s in the sft stage's mix (README, "SFT throughput").
    The loss is the same sum over the same positions (tests/test_models.py). The switch is TRL's own
    `compact` branch; only its device test is replaced.
    """
    trl_utils._use_triton = lambda device: True


LENGTH_BUCKET = 256  # characters: every puzzle example falls in the first bucket, most GSM8K ones in later ones


def to_dataset(tokenizer, records: list[dict]) -> Dataset:
    """prompt = the chat-formatted user turn, completion = the gold answer (TRL appends EOS).

    `length` is a coarse size class, read by the length-grouped sampler: long examples (GSM8K, dual
    tasks) are batched together so a puzzle batch is not padded to a GSM8K solution's length (random
    batches ran at 6.7 s a step against 1.6), while examples of one class keep their random order
    (a stable sort on equal keys). Grouping by exact length made each batch one kind of puzzle and
    learned less per example (README, "Learning the puzzle": loss 1.44 vs 1.14 after 6,400 puzzles).
    """
    prompts = [models.chat_prompt(tokenizer, r["prompt"]) for r in records]
    return Dataset.from_dict({"prompt": prompts, "completion": [r["completion"] for r in records],
                              "length": [(len(p) + len(r["completion"])) // LENGTH_BUCKET
                                         for p, r in zip(prompts, records)]})


CPU_4BIT_FALLBACK = ("none: 4-bit requested, plain LoRA on CPU (bitsandbytes 0.50.2 nf4 on an AVX512-BF16 CPU "
                     "stopped updating 10 of 28 LoRA tensors after one generate call; measured, see README)")


def quantization(cfg) -> str:
    """nf4 QLoRA on CUDA when asked; on CPU always plain LoRA (4-bit there is unreliable, see above)."""
    if not cfg.load_in_4bit:
        return "none"
    return "nf4-4bit" if models.device() == "cuda" else CPU_4BIT_FALLBACK


def sft_trainer(cfg, records: list[dict], base: str = models.LOCAL, stage: str = "sft",
                start: str | None = None) -> SFTTrainer:
    """TRL's SFTTrainer with a fresh LoRA adapter on `base` (or all weights trainable when lora_r is 0);
    checkpoints under checkpoints/<stage>. `start`: a fine-tuned folder (LoRA adapter or whole model)
    whose training goes on instead (mining's continued fine-tuning); cfg.lora_r is then not read."""
    if start is None and (cfg.lora_r < 0 or (cfg.lora_r == 0 and cfg.load_in_4bit)):
        raise ValueError(f"params {stage}.lora_r: must be > 0 with load_in_4bit (QLoRA), or >= 0; got {cfg.lora_r}")
    models.set_seed(cfg.seed)
    compact_lm_head()
    on_cuda = models.device() == "cuda"
    # records past one pass of max_steps x batch_size are never trained on: not worth tokenizing
    # (the caller shuffled them; 100k puzzles take TRL ~80 s to tokenize on 2 cores)
    records = records[:cfg.max_steps * cfg.batch_size]
    tokenizer = models.load_tokenizer(base)
    tokenizer.padding_side = "right"
    model = models.load_model(base, adapter=start, load_in_4bit=quantization(cfg) == "nf4-4bit", trainable=True)
    args = SFTConfig(output_dir=str(models.checkpoint_dir(stage)), max_steps=cfg.max_steps,
                     per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                     lr_scheduler_type="cosine", warmup_steps=max(1, cfg.max_steps // 20),
                     # two checkpoints kept: a kill while the newer one is written leaves the older complete
                     logging_steps=max(1, cfg.max_steps // 50), save_steps=cfg.save_steps, save_total_limit=2,
                     max_length=cfg.max_length, report_to=[], seed=cfg.seed, data_seed=cfg.seed,
                     use_cpu=not on_cuda, **models.mixed_precision(),
                     gradient_checkpointing=models.gradient_checkpointing(cfg.gradient_checkpointing),
                     dataloader_num_workers=0,
                     include_num_input_tokens_seen="non_padding",
                     # the coarse `length` column of to_dataset must reach the sampler (TRL keeps only model inputs)
                     train_sampling_strategy="group_by_length", remove_unused_columns=False)
    return SFTTrainer(model=model, args=args, train_dataset=to_dataset(tokenizer, records), processing_class=tokenizer,
                      peft_config=models.lora_config(cfg) if start is None and cfg.lora_r > 0 else None)


def train_sft(cfg, records: list[dict], out_dir, base: str = models.LOCAL, stage: str = "sft",
              start: str | None = None) -> dict:
    """LoRA-train `base` (or go on training `start`) on records, resuming an interrupted run of the same
    params; save the adapter (or whole model)."""
    trainer = sft_trainer(cfg, records, base, stage, start)
    tokenizer = trainer.processing_class
    resume = models.resumable(stage, {"params": dict(vars(cfg)), "records": len(records), "start": start,
                               "first": records[0]["id"], "last": records[-1]["id"]})
    t0 = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - t0
    save_adapter(trainer.model, tokenizer, out_dir, quantization(cfg))
    shutil.rmtree(models.checkpoint_dir(stage), ignore_errors=True)
    tokens = int(trainer.state.num_input_tokens_seen) or None
    trainable = sum(p.numel() for p in trainer.model.parameters() if p.requires_grad)
    curve = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    # examples trained on (one pass of max_steps x batch_size at most), not the size of the mix offered
    return {"examples": min(len(records), cfg.max_steps * cfg.batch_size), "trainable_parameters": trainable,
            "quantization": quantization(cfg),
            "seconds": round(seconds, 1), "train_loss": round(result.training_loss, 4),
            "final_loss": curve[-1]["loss"] if curve else None,
            "tokens_seen": tokens, "tokens_per_s": round(tokens / seconds, 1) if tokens else None,
            "peak_memory_mb": round(models.peak_memory_mb(), 1), "resumed_from": resume, "loss_curve": curve}
