"""The base stage: the model every later stage starts from.

`base.model` is a Hugging Face id or a local path (loaded with AutoModelForCausalLM, no remote code:
the GPU user's path), or `local`, the embedded default built here without any download:
1. a byte-level BPE tokenizer trained with `tokenizers` on the project's corpus, each operator or
   punctuation character its own token and numbers cut into runs of at most `base.number_digits`
   digits before BPE (1: `=-12` is `=`, `-`, `1`, `2`; 3: `=`, `-`, `12`, as Llama 3 cuts them), with
   special tokens and a chat template (protocol.py);
2. a small Llama (LlamaConfig) pre-trained from scratch with transformers' Trainer (full weights; with
   `base.number_embedding: fourier` each number token's embedding starts from Fourier features of its
   value, `fourier_numbers`; `learned`: all random) on a generic math corpus: GSM8K train solutions and
   generic arithmetic (arithmetic.py), each rendered as one chat turn so that the base model answers in
   the protocol's format. No puzzle is in it:
   the puzzle is what fine-tuning teaches (arXiv 2406.02100's base could not do it either).
   Documents are packed best-fit into rows of seq_len tokens (TRL's `pack_dataset`, "bfd"): position
   ids restart at each document, so transformers' packed-sequence mask keeps attention inside it,
   and no document is cut from its prompt.
Run with `dvc repro base`; `build(cfg, items, out_dir)` does the work. `arithmetic_probes` scores the
result on facts of 1-20 and on sums and differences of 21-60 (`arithmetic.probe`): a base for this project
must know them.
"""
from __future__ import annotations

import math
import time

import torch
from datasets import Dataset
from tokenizers import Regex, Tokenizer, decoders, models as tok_models, pre_tokenizers, trainers
from transformers import (AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast,
                          Trainer, TrainingArguments)
from trl import pack_dataset

from mathtune import io, models, protocol


def train_tokenizer(texts: list[str], vocab_size: int, number_digits: int = 1) -> PreTrainedTokenizerFast:
    """Byte-level BPE; numbers (runs of at most number_digits digits, left to right) and punctuation
    (operators, `=`, `,`, brackets) are split before BPE sees them, so BPE may merge a run into one token."""
    if number_digits < 1:
        raise ValueError(f"params base.number_digits: must be >= 1, got {number_digits}")
    digits = pre_tokenizers.Digits(individual_digits=True) if number_digits == 1 else \
        pre_tokenizers.Split(Regex(rf"\d{{1,{number_digits}}}"), behavior="isolated")
    tok = Tokenizer(tok_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([digits,
                                                 pre_tokenizers.Punctuation(behavior="isolated"),
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
    """Each item as one chat exchange (prompt, then its gold completion ending in EOS)."""
    return [tokenizer.apply_chat_template([{"role": "user", "content": it["prompt"]},
                                           {"role": "assistant", "content": it["completion"]}],
                                          tokenize=False).rstrip("\n")
            for it in items]


def packed(tokenizer, docs: list[str], seq_len: int) -> Dataset:
    """Documents (EOS-terminated) packed best-fit into rows of <= seq_len tokens, with their lengths."""
    ids = tokenizer(docs, add_special_tokens=False)["input_ids"]
    return pack_dataset(Dataset.from_dict({"input_ids": ids}), seq_len, strategy="bfd")


def collate(rows: list[dict], pad_id: int) -> dict:
    """A batch of packed rows: position ids restart at each document, and no attention_mask is passed.

    Without a mask, transformers reads document boundaries off the position ids and builds a
    block-causal mask per row (masking_utils.find_packed_sequence_indices). Labels of padding and
    of each document's first token are -100: nothing is predicted across a boundary.
    """
    width = max(len(r["input_ids"]) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id)
    labels = torch.full((len(rows), width), -100)
    position_ids = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r["input_ids"])
        input_ids[i, :n] = torch.tensor(r["input_ids"])
        labels[i, :n] = input_ids[i, :n]
        position_ids[i, :n] = torch.cat([torch.arange(k) for k in r["seq_lengths"]])
        position_ids[i, n:] = torch.arange(width - n)  # padding is a document of its own
        labels[i, position_ids[i] == 0] = -100
    return {"input_ids": input_ids, "labels": labels, "position_ids": position_ids}


FOURIER_PERIODS = (2, 3, 5, 7, 10, 20, 50, 100, 200, 500, 1000)


def fourier_numbers(model, tokenizer, scale: float = 0.3) -> int:
    """Set the first dimensions of each number token's (0-999) embedding to `scale` x cos and sin of 2 pi v / T
    for the periods above (FoNE, Zhou et al. 2025, as an initialisation: training moves them as any weight);
    the embedding is tied, so the LM head reads numbers the same way. Returns how many tokens were set.
    Why: a number then carries its value from the first step, and the base learns about twice the arithmetic in
    the same steps (docs/sessions.md, "Session 31")."""
    emb = model.get_input_embeddings().weight
    done = 0
    with torch.no_grad():
        for text, i in tokenizer.get_vocab().items():
            if text.isascii() and text.isdigit() and str(int(text)) == text and int(text) < 1000:
                feats = [f(2 * math.pi * int(text) / t) for t in FOURIER_PERIODS for f in (math.cos, math.sin)]
                emb[i, :len(feats)] = torch.tensor(feats) * scale
                done += 1
    return done


def pretrain(cfg, tokenizer, docs: list[str], out_dir) -> dict:
    """Pre-train a LlamaConfig model of cfg's size on docs; save it with its tokenizer."""
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=cfg.hidden_size,
                         intermediate_size=cfg.intermediate_size, num_hidden_layers=cfg.num_layers,
                         num_attention_heads=cfg.num_heads, num_key_value_heads=cfg.num_heads,
                         max_position_embeddings=1024, tie_word_embeddings=True,
                         bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    models.set_seed(cfg.seed)
    model = LlamaForCausalLM(config)
    if cfg.number_embedding == "fourier":
        fourier_numbers(model, tokenizer)
    on_cuda = models.device() == "cuda"
    data = packed(tokenizer, docs, cfg.seq_len)
    args = TrainingArguments(output_dir=str(models.checkpoint_dir("base")), max_steps=cfg.max_steps,
                             per_device_train_batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
                             lr_scheduler_type="cosine", warmup_steps=max(1, cfg.max_steps // 20),
                             weight_decay=0.1, logging_steps=max(1, cfg.max_steps // 50), save_strategy="no",
                             report_to=[], seed=cfg.seed, data_seed=cfg.seed, use_cpu=not on_cuda,
                             **models.mixed_precision(), dataloader_num_workers=0,
                             remove_unused_columns=False, include_num_input_tokens_seen="non_padding",
                             disable_tqdm=False)
    trainer = Trainer(model=model, args=args, train_dataset=data,
                      data_collator=lambda rows: collate(rows, tokenizer.pad_token_id))
    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    tokens = int(trainer.state.num_input_tokens_seen)
    with io.atomic_path(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
    curve = [{"step": h["step"], "loss": h["loss"]} for h in trainer.state.log_history if "loss" in h]
    return {"parameters": model.num_parameters(), "documents": len(docs), "rows": len(data), "tokens_seen": tokens,
            "tokens_per_s": round(tokens / seconds, 1), "seconds": round(seconds, 1),
            "final_loss": curve[-1]["loss"] if curve else None, "loss_curve": curve}


def arithmetic_exact(model, tokenizer, items: list[dict], name: str = "arithmetic") -> dict:
    """Greedy exact match on `arithmetic.probe` facts: the answer's first line must read `a op b=c`.
    Keys are `<name>/exact`, its 95 % Wilson bounds and `<name>/items`."""
    from mathtune import generation, stats
    was_training = model.training
    model.eval()
    outs, _ = generation.generate(model, tokenizer, [it["prompt"] for it in items], max_new_tokens=16,
                                  batch_size=100, stop=["\n", ","], desc="arithmetic probe")
    model.train(was_training)
    right = sum(o.strip() == it["completion"] for o, it in zip(outs, items))
    lo, hi = stats.wilson(right, len(items))
    return {f"{name}/exact": right / len(items), f"{name}/exact_ci95_low": lo, f"{name}/exact_ci95_high": hi,
            f"{name}/items": len(items)}


def arithmetic_probes(model, tokenizer, seed: int) -> dict:
    """`arithmetic/`: 300 facts of 1-20 with + - *; `arithmetic_21_60/`: 300 sums and differences of 21-60,
    the steps `ood_range` puzzles are made of (docs/sessions.md "Session 37")."""
    from mathtune import arithmetic
    return {**arithmetic_exact(model, tokenizer, arithmetic.probe(300, seed)),
            **arithmetic_exact(model, tokenizer, arithmetic.probe(300, seed, 21, 60, "+-"), name="arithmetic_21_60")}


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
    if cfg.number_embedding not in ("learned", "fourier"):
        raise ValueError(f"params base.number_embedding: expected 'learned' or 'fourier', got {cfg.number_embedding!r}")
    tokenizer = corpus_tokenizer(items, cfg.vocab_size, cfg.number_digits)
    return pretrain(cfg, tokenizer, corpus(tokenizer, items), out_dir)


def corpus_tokenizer(items: list[dict], vocab_size: int, number_digits: int = 1) -> PreTrainedTokenizerFast:
    # the protocol's prompt wording joins the tokenizer's texts (not the model's): a pretrained
    # tokenizer knows English words too, and puzzle prompts should not cost a token per letter
    plain = [it["prompt"] + "\n" + it["completion"] for it in items] + protocol.prompt_texts()
    return train_tokenizer(plain, vocab_size, number_digits)


def corpus_items(cfg) -> list[dict]:
    """The pre-training corpus: the first corpus_gsm8k GSM8K train solutions + generic arithmetic."""
    from mathtune import arithmetic, gsm8k
    return gsm8k.load(io.path("data/gsm8k/train.jsonl"))[:cfg.corpus_gsm8k] + \
        arithmetic.corpus(cfg.corpus_arithmetic, cfg.seed, cfg.arithmetic_small)


def stage(cfg) -> dict:
    """`dvc repro base`: models/base from corpus_items(cfg)."""
    metrics = build(cfg, corpus_items(cfg), io.path(models.BASE_DIR))
    if cfg.model != models.LOCAL:  # a pretrained model answers in its own words: the probe's format is ours
        return metrics
    tokenizer = models.load_tokenizer(models.BASE_DIR)
    model = models.load_model(models.BASE_DIR)
    return {**metrics, **arithmetic_probes(model, tokenizer, cfg.seed)}
