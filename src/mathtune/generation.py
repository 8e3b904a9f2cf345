"""Batched generation: chat-formatted prompts, left padding, KV cache, stop strings, seeded sampling.

    texts, stats = generation.generate(model, tok, prompts, max_new_tokens=64, stop=["\\n"], batch_size=32)

Prompts are sorted by length so a batch wastes little padding, then answers are returned in the
input order. Sampling is seeded per batch from `seed` (batches are a function of the prompts and
the batch size), so the same call samples the same paths. `num_return_sequences=k` returns k
completions per prompt, grouped by prompt. `stats["truncated"]` flags each completion that the token
limit cut (no EOS, no stop string): DPO never uses such a sample as a rejected answer.
"""
from __future__ import annotations

import time

import torch
from tqdm.auto import tqdm

from mathtune import models, protocol


def cut(text: str, stop) -> str:
    """`text` up to the first stop string."""
    for s in stop:
        i = text.find(s)
        if i != -1:
            text = text[:i]
    return text.strip()


@torch.inference_mode()
def generate(model, tokenizer, prompts: list[str | list[dict]], *, max_new_tokens: int, batch_size: int = 16, stop=(),
             do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0, seed: int = 0,
             num_return_sequences: int = 1, desc: str = "generate") -> tuple[list[str], dict]:
    """Completions for `prompts` (raw protocol prompts or chat message lists; the chat template is applied here)."""
    if not prompts:
        return [], {"tokens": 0, "seconds": 0.0, "tokens_per_s": 0.0, "truncated": []}
    tokenizer.padding_side = "left"
    texts = [models.chat_prompt(tokenizer, p) for p in prompts]
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out: list[list[str] | None] = [None] * len(texts)
    cut_off: list[list[bool] | None] = [None] * len(texts)
    sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p} if do_sample else {"do_sample": False}
    new_tokens, start = 0, time.perf_counter()
    dev = next(model.parameters()).device
    for b, lo in enumerate(tqdm(range(0, len(order), batch_size), desc=desc, mininterval=5)):
        idx = order[lo:lo + batch_size]
        enc = tokenizer([texts[i] for i in idx], return_tensors="pt", padding=True, add_special_tokens=False).to(dev)
        torch.manual_seed(seed + b)
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, num_return_sequences=num_return_sequences,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                             stop_strings=list(stop) or None, tokenizer=tokenizer, use_cache=True, **sampling)
        gen = gen[:, enc["input_ids"].shape[1]:]
        new_tokens += int((gen != tokenizer.pad_token_id).sum())
        decoded = tokenizer.batch_decode(gen, skip_special_tokens=True)
        # cut by the token limit: all max_new_tokens generated, no EOS among them, no stop string hit
        ended = (gen == tokenizer.eos_token_id).any(dim=1).tolist()
        for j, i in enumerate(idx):
            rows = range(j * num_return_sequences, (j + 1) * num_return_sequences)
            out[i] = [cut(decoded[r], stop) for r in rows]
            cut_off[i] = [gen.shape[1] >= max_new_tokens and not ended[r] and not any(s in decoded[r] for s in stop)
                          for r in rows]
    seconds = time.perf_counter() - start
    flat = [t for group in out for t in group]
    return flat, {"tokens": new_tokens, "seconds": round(seconds, 2), "tokens_per_s": round(new_tokens / seconds, 1),
                  "truncated": [t for group in cut_off for t in group]}


def generate_per_source(model, tokenizer, items: list[dict], prompts: list | None = None, *, desc: str,
                        **kwargs) -> tuple[list[str], dict]:
    """`generate` once per source (gsm8k, puzzles) with that source's protocol stop strings and token
    budget; completions come back in the items' order (k per item, grouped), with each source's stats
    and `stats["truncated"]`, the token-limit flags in the same order.

    `prompts` (one per item) default to the items' own; other keywords go to `generate` unchanged.
    """
    prompts = [it["prompt"] for it in items] if prompts is None else prompts
    k = kwargs.get("num_return_sequences", 1)
    out: list[str] = [""] * (len(items) * k)
    truncated = [False] * (len(items) * k)
    stats = {}
    for source in ("gsm8k", "puzzles"):
        idx = [i for i, it in enumerate(items) if it["source"] == source]
        texts, stats[source] = generate(model, tokenizer, [prompts[i] for i in idx], desc=f"{desc}/{source}",
                                        max_new_tokens=protocol.MAX_NEW_TOKENS[source], stop=protocol.STOP[source],
                                        **kwargs)
        for j, i in enumerate(idx):
            out[i * k:(i + 1) * k] = texts[j * k:(j + 1) * k]
            truncated[i * k:(i + 1) * k] = stats[source]["truncated"][j * k:(j + 1) * k]
    for st in stats.values():
        st.pop("truncated")
    stats["truncated"] = truncated
    return out, stats
