"""Randomised positions for issue 14's length levers (Ruoss et al. 2023, "Randomized positional encodings boost
length generalization of Transformers"), in SFT only.

A uniform offset is a no-op for RoPE (session 15: `position_offsets.py`), since attention sees only the distance
between two positions. Ruoss et al. instead give each training sequence a sorted random draw of its positions
from a range longer than any test sequence, so the distances between tokens vary from example to example and a
test sequence's distances were all seen in training. Here half of the rows of each SFT batch (a seeded draw) get
position ids `sorted(sample(range(max_position), length))`; the other half keep 0, 1, 2, ..., so greedy decoding
with the ordinary positions stays in the training distribution (the paper also draws at test time; the
project's generation keeps contiguous positions). Padding sits right of a row's tokens and is masked, so its
position ids do not matter; the attention mask is kept, so transformers never reads the ids as packed documents.
Used by learning_probe.py's `--positions`.

    python benchmarks/learning_probe.py --base models/base --set seed=7 --eval 300 --positions 256
"""
from __future__ import annotations

import torch

from mathtune import tuning

SHARE = 0.5  # rows a batch with random positions; the rest contiguous, as at generation


def randomise(collate, max_position: int, seed: int, share: float = SHARE):
    """`collate` with `position_ids` added: each row, with probability `share`, a sorted random draw from
    range(max_position) for its unpadded tokens, else 0..length-1."""
    rng = torch.Generator().manual_seed(seed)

    def collate_random(examples):
        batch = collate(examples)
        rows, width = batch["input_ids"].shape
        positions = torch.arange(width).repeat(rows, 1)
        for i, length in enumerate(batch["attention_mask"].sum(-1).tolist()):
            if length > max_position:
                raise ValueError(f"a row of {length} tokens does not fit --positions {max_position}")
            if torch.rand((), generator=rng) < share:
                positions[i, :length] = torch.randperm(max_position, generator=rng)[:length].sort().values
                positions[i, length:] = positions[i, length - 1]  # padding (masked)
        batch["position_ids"] = positions
        return batch

    return collate_random


def install(max_position: int, seed: int) -> None:
    """Every SFTTrainer that tuning builds from here on collates with random positions."""
    build = tuning.sft_trainer

    def sft_trainer(*args, **kwargs):
        trainer = build(*args, **kwargs)
        trainer.data_collator = randomise(trainer.data_collator, max_position, seed)
        return trainer

    tuning.sft_trainer = sft_trainer
