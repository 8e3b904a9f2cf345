"""benchmarks/positions_probe.py: SFT batches get sorted random position ids on a seeded share of rows, padding
and the attention mask untouched, and the ids reach the model (the loss moves with them): a tiny real model."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import positions_probe as pp  # noqa: E402

from conftest import tiny_items  # noqa: E402
from mathtune import config, tuning  # noqa: E402


def _cfg():
    return config.Sft(seed=0, load_in_4bit=False, lora_r=0, lora_alpha=8, lora_dropout=0.0, learning_rate=5e-3,
                      max_steps=2, batch_size=8, max_length=256, gradient_checkpointing="auto", save_steps=2,
                      mix_gsm8k=1.0, mix_puzzles=1.0, mix_irsp=0.0, mix_ir=0.0, mix_arithmetic=0.0, mix_one_shot=0.0,
                      mix_sub_steps=0.0, mix_lists=0.0, list_steps=3)


def test_random_rows_get_sorted_draws_from_the_range_and_the_rest_keep_their_places(tiny_model, repo, monkeypatch):
    monkeypatch.setattr(tuning, "sft_trainer", tuning.sft_trainer)  # install() patches it: undone after the test
    pp.install(256, seed=0)
    trainer = tuning.sft_trainer(_cfg(), tiny_items(0, 16), base=tiny_model)
    rows = [trainer.train_dataset[i] for i in range(16)]
    batch = trainer.data_collator(rows)
    lengths = batch["attention_mask"].sum(-1).tolist()
    drawn = 0
    for pos, n in zip(batch["position_ids"], lengths):
        real = pos[:n]
        assert (real.diff() > 0).all() and 0 <= int(real.min()) and int(real.max()) < 256
        if torch.equal(real, torch.arange(n)):
            continue
        drawn += 1
        assert int(real.max()) > n  # spread over the range, not a shifted block
    assert 3 <= drawn <= 13  # about half of 16
    # the ids reach the model: the same rows score another loss with contiguous positions
    moved = trainer.compute_loss(trainer.model, dict(batch))
    batch["position_ids"] = torch.arange(batch["input_ids"].shape[1]).repeat(len(rows), 1)
    assert not torch.allclose(moved, trainer.compute_loss(trainer.model, dict(batch)))


def test_a_row_longer_than_the_range_is_named():
    collate = pp.randomise(lambda ex: {"input_ids": torch.ones(1, 9, dtype=torch.long),
                                       "attention_mask": torch.ones(1, 9, dtype=torch.long)}, 8, seed=0, share=1.0)
    with pytest.raises(ValueError, match="9 tokens does not fit --positions 8"):
        collate([{}])
