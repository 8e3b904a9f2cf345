"""Why did the old base learn the puzzle slower than a plain model? The cheap, exact measurements.

Compares the code at commit 873546b (before issue 14) with the working tree on the same texts:
- tokens per puzzle example (chat-formatted prompt + completion), per prompt version and trace;
- documents cut from their prompt by the old "concatenate and cut into seq_len blocks" packing,
  and by the best-fit packing now (TRL pack_dataset "bfd": none are split);
- how often `-` is fused with the character before it (`" -"`, `"=-"`, `"--"` single tokens);
- training tokens/s of the default model with plain causal blocks and with per-document masks.
Puzzle-learning runs (minutes -> pass@1) are benchmarks/learning_probe.py's rows.

    python benchmarks/base_diagnosis.py
"""
from __future__ import annotations

import random
import time

import torch
from tokenizers import Tokenizer, decoders, models as tok_models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM

from mathtune import arithmetic, base, gsm8k, io, protocol, puzzles

OLD_PROMPT = "Use each of the integers {numbers} exactly once with + - * / to make {target}."


def old_tokenizer(texts: list[str], vocab_size: int):
    """The tokenizer of commit 873546b: digits split, punctuation left to byte-level BPE."""
    tok = Tokenizer(tok_models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(texts, trainer=trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=protocol.SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    return tok


def puzzle_examples(n: int, prompt: str, trace: str) -> list[str]:
    split = puzzles.Split("t", n, 3, 4, 1, 20)
    out = []
    for i in range(n):
        numbers, target, solution = puzzles.generate(random.Random(i), split, "+-*/", 100, trace)
        out.append(f"<|user|>\n{prompt.format(numbers=', '.join(map(str, numbers)), target=target)}\n"
                   f"<|assistant|>\n{solution}<|eos|>")
    return out


def tokens_per_second(masked: bool, rows: int = 8, seq_len: int = 256, doc_len: int = 32) -> float:
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=2048, hidden_size=256, intermediate_size=704, num_hidden_layers=4,
                                         num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True))
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    x = torch.randint(0, 2048, (rows, seq_len))
    kwargs = {"position_ids": torch.arange(seq_len).remainder(doc_len).expand(rows, -1)} if masked else {}
    for i in range(8):
        if i == 3:
            start = time.perf_counter()
        model(input_ids=x, labels=x, **kwargs).loss.backward()
        opt.step()
        opt.zero_grad()
    return rows * seq_len * 5 / (time.perf_counter() - start)


def main() -> None:
    items = gsm8k.load(io.path("data/gsm8k/train.jsonl"))[:3000] + arithmetic.corpus(20000, seed=0)
    texts = [it["prompt"] + "\n" + it["completion"] for it in items]
    new_tok = base.train_tokenizer(texts + protocol.prompt_texts(), 2048)
    old_tok = old_tokenizer(texts + puzzle_examples(2000, OLD_PROMPT, "steps"), 2048)
    print("| measurement | before (873546b) | now |\n|---|---|---|")
    for prompt, trace in ((OLD_PROMPT, "steps"), (protocol.PUZZLE_PROMPT, "steps"), (protocol.PUZZLE_PROMPT, "state")):
        ex = puzzle_examples(500, prompt, trace)
        old = sum(len(old_tok.encode(e).ids) for e in ex) / len(ex)
        new = sum(len(new_tok(e, add_special_tokens=False)["input_ids"]) for e in ex) / len(ex)
        label = "v1 prompt" if prompt == OLD_PROMPT else "v2 prompt"
        print(f"| tokens per puzzle example, {label}, {trace} trace | {old:.1f} | {new:.1f} |")
    fused = ("Ġ-", "=-", "--", "-Ġ")
    sample = " ".join(texts[:2000])
    old_pieces = old_tok.encode(sample).tokens
    new_pieces = new_tok.tokenize(sample)
    print(f"| tokens fusing `-` with a neighbour, per 1,000 tokens | "
          f"{1000 * sum(p in fused or (len(p) > 1 and '-' in p) for p in old_pieces) / len(old_pieces):.1f} | "
          f"{1000 * sum(len(p) > 1 and '-' in p for p in new_pieces) / len(new_pieces):.1f} |")
    docs = base.corpus(new_tok, items)
    lengths = [len(ids) for ids in new_tok(docs, add_special_tokens=False)["input_ids"]]
    total, cut = 0, 0
    for n in lengths:  # the old packing: one stream cut every 256 tokens
        cut += (total // 256) != ((total + n - 1) // 256)
        total += n
    print(f"| documents split across 256-token blocks | {cut / len(lengths):.1%} | 0 (bfd keeps each whole; "
          f"{sum(n > 256 for n in lengths) / len(lengths):.1%} longer than a row are truncated) |")
    print(f"| documents a token can attend to | all in its block (~{256 * len(lengths) // total}) | 1 (its own) |")
    print(f"| training tokens/s, 8 x 256, causal blocks vs per-document masks (32-token documents) | "
          f"{tokens_per_second(False):.0f} | {tokens_per_second(True):.0f} |")


if __name__ == "__main__":
    main()
