"""The base stage: the model every later stage starts from.

`base.model` is a Hugging Face id or a local path (loaded with AutoModelForCausalLM, no remote code:
the GPU user's path), or `local`, the embedded default built here without any download:
1. a byte-level BPE tokenizer trained with `tokenizers` on the project's corpus, each digit its own
   token, with special tokens and a chat template (protocol.py);
2. a small Llama (LlamaConfig) pre-trained from scratch with transformers' Trainer on a math corpus:
   GSM8K train solutions and the puzzles stage's `corpus` split (disjoint from the fine-tuning
   train split), each rendered as one chat turn
   so that the base model already answers in the protocol's format.
Run with `dvc repro base`; `build(cfg, gsm8k_items, puzzle_items, out_dir)` does the work.
"""
from __future__ import annotations

import time

import torch
from datasets import Dataset
from tokenizers import Tokenizer, decoders, models as tok_models, pre_tokenizers, trainers
from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForLanguageModeling, LlamaConfig,
                          LlamaForCausalLM, PreTrainedTokenizerFast, Trainer, TrainingArguments)

from mathtune import io, models, protocol


def train_tokenizer(texts: list[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE with every digit a token of its own (digits are split before BPE sees them)."""
    tok = Tokenizer(tok_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=protocol.SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|pad|>", bos_token="<|bos|>",
                                   eos_token="<|eos|>",
                                   extra_special_tokens=["<|user|>", "<|assistant|>", protocol.MASK])
    fast.chat_template = protocol.CHAT_TEMPLATE
    return fast


def corpus(tokenizer, items: list[dict]) -> list[str]:
    """Each item as one chat exchange (prompt, then its gold completion)."""
    return [tokenizer.apply_chat_template([{"role": "user", "content": it["prompt"]},
                                           {"role": "assistant", "content": it["completion"]}], tokenize=False)
            for it in items]


def packed(tokenizer, docs: list[str], seq_len: int) -> Dataset:
    """Concatenate all documents and cut the stream into blocks of seq_len tokens (the usual packing)."""
    ids = [t for doc in tokenizer(docs, add_special_tokens=False)["input_ids"] for t in doc]
    n = len(ids) // seq_len
    if n == 0:
        raise ValueError(f"base corpus has {len(ids)} tokens, fewer than one block of seq_len={seq_len}")
    return Dataset.from_dict({"input_ids": [ids[i * seq_len:(i + 1) * seq_len] for i in range(n)]})


def pretrain(cfg, tokenizer, docs: list[str], out_dir) -> dict:
    """Pre-train a LlamaConfig model of cfg's size on docs with Trainer; save it with its tokenizer."""
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=cfg.hidden_size,
                         intermediate_size=cfg.intermediate_size, num_hidden_layers=cfg.num_layers,
                         num_attention_heads=cfg.num_heads, num_key_value_heads=cfg.num_heads,
                         max_position_embeddings=1024, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    models.set_seed(cfg.seed)
    model = LlamaForCausalLM(config)
    data = packed(tokenizer, docs, cfg.seq_len)
    args = TrainingArguments(output_dir=str(models.checkpoint_dir("base")), max_steps=cfg.max_steps,
                             per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                             lr_scheduler_type="cosine", warmup_steps=max(1, cfg.max_steps // 20),
                             weight_decay=0.1, logging_steps=max(1, cfg.max_steps // 50), save_strategy="no",
                             report_to=[], seed=cfg.seed, data_seed=cfg.seed, use_cpu=models.device() == "cpu",
                             bf16=models.device() == "cuda", dataloader_num_workers=0, disable_tqdm=False)
    trainer = Trainer(model=model, args=args, train_dataset=data,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    tokens = cfg.max_steps * cfg.batch_size * cfg.seq_len
    with io.atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    curve = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    return {"parameters": model.num_parameters(), "corpus_tokens": len(data) * cfg.seq_len,
            "tokens_seen": tokens, "tokens_per_s": round(tokens / seconds, 1), "seconds": round(seconds, 1),
            "final_loss": curve[-1]["loss"] if curve else None, "loss_curve": curve}


def build(cfg, items: list[dict], out_dir) -> dict:
    """The base stage: `local` trains tokenizer + model; a hub id or path is loaded and saved as is."""
    if cfg.model != models.LOCAL:
        start = time.perf_counter()
        tok = AutoTokenizer.from_pretrained(models.resolve(cfg.model), trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(models.resolve(cfg.model), trust_remote_code=False)
        with io.atomic_path(out_dir) as tmp:
            model.save_pretrained(tmp)
            tok.save_pretrained(tmp)
        return {"parameters": model.num_parameters(), "seconds": round(time.perf_counter() - start, 1),
                "loss_curve": []}
    plain = [it["prompt"] + "\n" + it["completion"] for it in items]
    tokenizer = train_tokenizer(plain, cfg.vocab_size)
    return pretrain(cfg, tokenizer, corpus(tokenizer, items), out_dir)


def stage(cfg) -> dict:
    """`dvc repro base`: models/base from the first corpus_gsm8k GSM8K train solutions + the puzzle corpus."""
    from mathtune import gsm8k
    items = gsm8k.load(io.path("data/gsm8k/train.jsonl"))[:cfg.corpus_gsm8k]
    items += io.read_jsonl(io.path("data/puzzles/corpus.jsonl"), required=("prompt", "completion"))
    return build(cfg, items, io.path(models.BASE_DIR))
