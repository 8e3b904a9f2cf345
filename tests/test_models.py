"""Tokenizer, loading, generation, SFT and DPO on a tiny real model (tests/conftest.py::tiny_model)."""
import dataclasses
import json
import math
import shutil

import pytest
import torch

from conftest import tiny_items
from mathtune import config, dpo, generation, models, protocol, sft, tuning


def test_tokenizer_splits_every_digit_and_has_the_chat_template(tiny_model):
    tok = models.load_tokenizer(tiny_model)
    pieces = tok.tokenize("sold 1234 clips")
    assert [p for p in pieces if p.strip("Ġ").isdigit()] == ["1", "2", "3", "4"]
    assert tok.convert_tokens_to_ids(protocol.MASK) != tok.unk_token_id and len(tok.tokenize(protocol.MASK)) == 1
    assert models.chat_prompt(tok, "hi") == "<|user|>\nhi\n<|assistant|>\n"
    assert tok.padding_side == "left" and tok.pad_token == "<|pad|>"


def test_missing_model_or_adapter_gets_a_clear_error(tiny_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        models.load_model("models/nowhere")
    with pytest.raises(FileNotFoundError, match="no LoRA adapter"):
        models.load_model(tiny_model, adapter=str(tmp_path))


def test_batched_generation_equals_one_prompt_at_a_time(tiny_model):
    tok, model = models.load_tokenizer(tiny_model), models.load_model(tiny_model)
    prompts = [it["prompt"] for it in tiny_items(2, 3)]  # very different lengths: padding matters
    batched, stats = generation.generate(model, tok, prompts, max_new_tokens=12, batch_size=8)
    single = [generation.generate(model, tok, [p], max_new_tokens=12, batch_size=1)[0][0] for p in prompts]
    assert batched == single
    assert stats["tokens"] > 0


def test_sampling_is_seeded_and_stop_strings_cut(tiny_model):
    tok, model = models.load_tokenizer(tiny_model), models.load_model(tiny_model)
    kw = dict(max_new_tokens=10, do_sample=True, temperature=1.5, num_return_sequences=3, seed=7)
    a, _ = generation.generate(model, tok, ["Use each of", "Solve"], **kw)
    b, _ = generation.generate(model, tok, ["Use each of", "Solve"], **kw)
    assert a == b and len(a) == 6
    assert generation.cut("1+2=3, 3*3=9\nnext question", protocol.STOP["puzzles"]) == "1+2=3, 3*3=9"


def test_per_source_generation_keeps_the_items_order_and_each_sources_protocol(tiny_model):
    tok, model = models.load_tokenizer(tiny_model), models.load_model(tiny_model)
    gsm, puz = tiny_items(2, 2)[:2], tiny_items(2, 2)[2:]
    items = [puz[0], gsm[0], puz[1], gsm[1]]  # interleaved on purpose
    kw = dict(do_sample=True, num_return_sequences=2, seed=3, batch_size=4)
    texts, stats = generation.generate_per_source(model, tok, items, desc="t", **kw)
    assert set(stats) == {"gsm8k", "puzzles", "truncated"} and len(texts) == 8 and len(stats["truncated"]) == 8
    for source, group in (("gsm8k", gsm), ("puzzles", puz)):
        alone, _ = generation.generate(model, tok, [it["prompt"] for it in group], max_new_tokens=protocol.MAX_NEW_TOKENS[source],
                                       stop=protocol.STOP[source], **kw)
        pos = [i for i, it in enumerate(items) if it["source"] == source]
        assert [t for i in pos for t in texts[2 * i:2 * i + 2]] == alone


def _sft_cfg(**kw):
    base = dict(seed=0, load_in_4bit=False, lora_r=4, lora_alpha=8, lora_dropout=0.0, learning_rate=5e-3,
                max_steps=4, batch_size=4, max_length=256, gradient_checkpointing="auto", save_steps=2, mix_gsm8k=1.0, mix_puzzles=1.0,
                mix_irsp=0.0, mix_ir=0.0, mix_arithmetic=0.0, mix_one_shot=0.0, mix_sub_steps=0.0, mix_lists=0.0, list_steps=3)
    return config.Sft(**{**base, **kw})


def test_sft_masks_the_prompt_and_trains_only_lora(tiny_model, repo):
    records = tiny_items(4, 8)
    trainer = tuning.sft_trainer(_sft_cfg(), records, base=tiny_model)
    tok = trainer.processing_class
    row = trainer.train_dataset[0]
    batch = trainer.data_collator([row])
    prompt_len = len(tok(models.chat_prompt(tok, records[0]["prompt"]), add_special_tokens=False)["input_ids"])
    labels = batch["labels"][0]
    assert (labels[:prompt_len] == -100).all()  # no loss on the prompt
    assert (labels[prompt_len:] != -100).any()
    assert tok.decode(labels[labels != -100]).startswith(records[0]["completion"][:20])
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(before[n], p.detach())}
    assert changed and all("lora_" in n for n in changed)


def test_lm_head_scores_only_completion_positions_and_the_loss_is_unchanged(tiny_model, repo, monkeypatch):
    import trl.trainer.utils as trl_utils
    trainer = tuning.sft_trainer(_sft_cfg(lora_r=0), tiny_items(2, 6), base=tiny_model)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(6)])  # mixed lengths: padding
    completion = int((batch["labels"][:, 1:] != -100).sum())
    rows, apply = [], trl_utils._ChunkedLogProbFunction.apply
    monkeypatch.setattr(trl_utils._ChunkedLogProbFunction, "apply", lambda h, *a: rows.append(len(h)) or apply(h, *a))
    compact = trainer.compute_loss(trainer.model, dict(batch))
    monkeypatch.setattr(trl_utils, "_use_triton", lambda device: False)  # TRL's own CPU behaviour
    full = trainer.compute_loss(trainer.model, dict(batch))
    assert rows == [completion, batch["input_ids"].numel() - len(batch["input_ids"])]
    assert completion < rows[1] / 2 and torch.allclose(compact, full, atol=1e-5)


def test_cpu_never_trains_on_4bit_weights(tiny_model, repo):
    cfg = _sft_cfg(load_in_4bit=True)
    assert tuning.quantization(cfg).startswith("none: 4-bit requested") and tuning.quantization(_sft_cfg()) == "none"
    trainer = tuning.sft_trainer(cfg, tiny_items(1, 2), base=tiny_model)
    assert not any("4bit" in type(m).__name__ for m in trainer.model.modules())


def test_sft_mix_weights(repo):
    src = {"gsm8k": [{"id": f"g{i}"} for i in range(10)], "puzzles": [{"id": f"p{i}"} for i in range(10)],
           "irsp": [{"id": f"i{i}"} for i in range(10)]}
    mix, counts = sft.build_mix(_sft_cfg(mix_gsm8k=2.0, mix_puzzles=0.5, mix_irsp=0.0), src)
    assert counts == {"mix/gsm8k": 20, "mix/puzzles": 5, "mix/irsp": 0, "mix/ir": 0, "mix/arithmetic": 0, "mix/one_shot": 0,
                      "mix/sub_steps": 0, "mix/lists": 0}
    assert len(mix) == 25
    # a source added last (weight 0) leaves every other draw as it was: old defaults stay byte-identical
    calcs = {**src, "arithmetic": [{"id": f"a{i}"} for i in range(10)]}
    assert sft.build_mix(_sft_cfg(mix_gsm8k=2.0, mix_puzzles=0.5, mix_irsp=0.0), calcs)[0] == mix
    replayed, counts = sft.build_mix(_sft_cfg(mix_puzzles=0.5, mix_arithmetic=0.3), calcs)
    assert counts["mix/arithmetic"] == 3 and sum(r["id"].startswith("a") for r in replayed) == 3
    with pytest.raises(ValueError, match="empty"):
        sft.build_mix(_sft_cfg(mix_gsm8k=0.0, mix_puzzles=0.0), src)


def test_dpo_reference_is_the_frozen_sft_policy(tiny_model, repo):
    records = tiny_items(2, 6)
    sft.train(_sft_cfg(max_steps=2), records, repo / "models/sft", base=tiny_model)
    pairs = [{"id": f"x{i}", "prompt": r["prompt"], "chosen": r["completion"], "rejected": r["completion"][::-1]}
             for i, r in enumerate(records)]
    # load_in_4bit asks for QLoRA: on CPU it must fall back to plain LoRA (on CUDA it is nf4)
    cfg = config.Dpo(seed=0, load_in_4bit=True, questions_gsm8k=0, questions_puzzles=0, k=2, temperature=1.0, top_p=1.0, batch_size=4, per_device_train_batch_size=4,
                     gold_fallback=True, beta=0.1, loss_type="sigmoid", learning_rate=1e-2, max_steps=3, gradient_checkpointing="auto",
                     save_steps=10, rounds=1, fresh_rounds=False, greedy=False)
    trainer = dpo.make_trainer(cfg, pairs, adapter=str(repo / "models/sft"), base=tiny_model)
    assert "ref" in trainer.model.peft_config  # TRL's frozen copy of the SFT adapter
    assert not any("4bit" in type(m).__name__ for m in trainer.model.modules())
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    first = next(h for h in trainer.state.log_history if "loss" in h)
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-3)
    assert first["rewards/margins"] == pytest.approx(0.0, abs=1e-4)
    changed = {n for n, p in trainer.model.named_parameters() if not torch.equal(before[n], p.detach())}
    assert changed and all("lora_" in n and ".default" in n for n in changed)


def test_dpo_pairs_from_checker_rewards():
    items = [{"id": "p1", "source": "puzzles", "task": "cot", "numbers": [1, 2], "target": 3, "prompt": "P",
              "completion": "1+2=3"},
             {"id": "p2", "source": "puzzles", "task": "cot", "numbers": [2, 2], "target": 4, "prompt": "Q",
              "completion": "2+2=4"}]
    samples = [["2+1=3", "1*2=2", "1*2=2", "2-1=1"], ["2-2=0", "2-2=0"]]
    pairs, counts = dpo.make_pairs(items, samples, gold_fallback=True)
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [("2+1=3", "1*2=2"), ("2+1=3", "2-1=1"), ("2+2=4", "2-2=0")]
    assert counts == {"questions": 2, "questions_with_correct": 1, "questions_mixed": 1, "mixed_share": 0.5,
                      "pairs": 3, "pairs_gold_chosen": 1, "self_sampled_share": 0.6667, "truncated_dropped": 0}
    assert dpo.make_pairs(items, samples, gold_fallback=False)[1]["pairs"] == 2


def test_a_sample_cut_by_the_token_limit_is_never_rejected():
    items = [{"id": "p1", "source": "puzzles", "task": "cot", "numbers": [1, 2], "target": 3, "prompt": "P",
              "completion": "1+2=3"}]
    samples = [["2+1=3", "1*2=2", "1+2=3, 3+3=6, 6+"]]
    pairs, counts = dpo.make_pairs(items, samples, gold_fallback=True, truncated=[[False, False, True]])
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [("2+1=3", "1*2=2")]  # two of the model's own samples
    assert counts["truncated_dropped"] == 1 and counts["pairs_gold_chosen"] == 0


def test_a_wrong_greedy_path_is_rejected_against_every_correct_sample():
    items = [{"id": "p1", "source": "puzzles", "task": "cot", "numbers": [1, 2], "target": 3, "prompt": "P",
              "completion": "1+2=3"}]
    samples = [["1*2=2", "2+1=3", "1+2=3", "2-1=1"]]  # the greedy path first, then three samples
    pairs, counts = dpo.make_pairs(items, samples, gold_fallback=False, greedy_first=True)
    assert [(p["chosen"], p["rejected"]) for p in pairs] == [("2+1=3", "1*2=2"), ("1+2=3", "1*2=2"), ("1+2=3", "2-1=1")]
    assert counts["greedy_wrong_fixable"] == 1 and len({p["id"] for p in pairs}) == 3
    plain, _ = dpo.make_pairs(items, samples, gold_fallback=False)
    assert [(p["chosen"], p["rejected"]) for p in plain] == [("2+1=3", "1*2=2"), ("1+2=3", "2-1=1")]


def test_greedy_sampling_puts_the_greedy_path_first_in_each_group(tiny_model, repo):
    tok, model = models.load_tokenizer(tiny_model), models.load_model(tiny_model)
    items = tiny_items(n_gsm8k=1, n_puzzles=2)
    cfg = dataclasses.replace(config.load("dpo"), k=2, greedy=True, batch_size=4)
    samples, cut, _ = dpo.sample(cfg, model, tok, items, seed=0)
    plain, _, _ = dpo.sample(dataclasses.replace(cfg, greedy=False), model, tok, items, seed=0)
    first, _ = generation.generate_per_source(model, tok, items, do_sample=False, batch_size=4, desc="t")
    assert [len(g) for g in samples] == [3, 3, 3] and [len(c) for c in cut] == [3, 3, 3]
    assert [g[0] for g in samples] == first and [g[1:] for g in samples] == plain


def test_fresh_rounds_ask_new_questions_and_keep_round_one(repo):
    cfg = config.load("dpo")
    pool = [{"id": f"q{i}", "source": "puzzles"} for i in range(100)]
    cfg = dataclasses.replace(cfg, questions_gsm8k=0, questions_puzzles=10, rounds=2)
    fresh = dataclasses.replace(cfg, fresh_rounds=True)
    same = [dpo.questions(cfg, [], pool, r) for r in (1, 2)]
    new = [dpo.questions(fresh, [], pool, r) for r in (1, 2)]
    assert same[0] == same[1] == new[0] and len(new[1]) == 10
    assert not {q["id"] for q in new[0]} & {q["id"] for q in new[1]}


def test_generation_flags_completions_the_token_limit_cut(tiny_model):
    tok, model = models.load_tokenizer(tiny_model), models.load_model(tiny_model)
    texts, cut = generation.generate(model, tok, ["Compute 1+2."], max_new_tokens=2, stop=[])
    assert cut["tokens"] == 2 and cut["truncated"] == [True]  # two tokens, no EOS, nothing stopped it
    raw = tok.decode(model.generate(**tok([models.chat_prompt(tok, "Compute 1+2.")], return_tensors="pt"),
                                    max_new_tokens=2, do_sample=False, pad_token_id=tok.pad_token_id)[0, -2:])
    _, stopped = generation.generate(model, tok, ["Compute 1+2."], max_new_tokens=2, stop=[raw[0]])
    assert stopped["truncated"] == [False]  # the same two tokens, ended by a stop string


def test_evaluate_rescores_saved_predictions_and_regenerates_when_inputs_change(tiny_model, tmp_path, monkeypatch):
    import shutil
    from pathlib import Path
    from mathtune import evaluate
    root = tmp_path / "repo"
    shutil.copytree(Path(tiny_model).parents[1], root)  # dvc.yaml + models/base, as after `dvc repro base`
    monkeypatch.chdir(root)
    items = tiny_items(3, 4)
    sets = {"gsm8k": items[:3], "in_domain": items[3:]}
    cfg = config.Evaluate(seed=0, gsm8k_test="unused", gsm8k_limit=3, gsm8k_protocol="project", num_fewshot=5,
                          max_gen_toks=256, puzzles_limit=4, batch_size=4)
    first = evaluate.evaluate_model(cfg, "base", None, sets, root / "pred")
    assert (root / "pred/base/fingerprint.json").is_file() and first["base/puzzles/in_domain/n"] == 4

    def no_generation(*args, **kwargs):
        raise AssertionError("generated although the saved predictions match")
    monkeypatch.setattr(generation, "generate", no_generation)
    again = evaluate.evaluate_model(cfg, "base", None, sets, root / "pred")
    assert {k: v for k, v in again.items() if "tokens_per_s" not in k} == \
        {k: v for k, v in first.items() if "tokens_per_s" not in k}
    with pytest.raises(AssertionError, match="generated"):  # other items: the saved outputs do not apply
        evaluate.evaluate_model(cfg, "base", None, {"in_domain": items[3:5]}, root / "pred")


def test_full_fine_tuning_trains_every_weight_and_dpo_trains_on_from_it(tiny_model, repo):
    records = tiny_items(2, 6)
    metrics = sft.train(_sft_cfg(lora_r=0, max_steps=2), records, repo / "models/sft", base=tiny_model)
    assert models.is_full_model(repo / "models/sft") and metrics["trainable_parameters"] > 10_000
    tuned = models.load_model(tiny_model, adapter=str(repo / "models/sft"))
    base_model = models.load_model(tiny_model)
    assert not hasattr(tuned, "peft_config")
    assert not torch.equal(tuned.lm_head.weight, base_model.lm_head.weight)
    pairs = [{"id": f"x{i}", "prompt": r["prompt"], "chosen": r["completion"], "rejected": r["completion"][::-1]}
             for i, r in enumerate(records)]
    cfg = config.Dpo(seed=0, load_in_4bit=False, questions_gsm8k=0, questions_puzzles=0, k=2, temperature=1.0,
                     top_p=1.0, batch_size=4, per_device_train_batch_size=4, gold_fallback=True, beta=0.1,
                     loss_type="sigmoid", learning_rate=1e-3, max_steps=2, gradient_checkpointing="auto",
                     save_steps=10, rounds=1, fresh_rounds=False, greedy=False)
    trainer = dpo.make_trainer(cfg, pairs, adapter=str(repo / "models/sft"), base=tiny_model)
    assert trainer.ref_model is not None and trainer.ref_model is not trainer.model  # a frozen copy
    trainer.train()
    first = next(h for h in trainer.state.log_history if "loss" in h)
    assert first["loss"] == pytest.approx(math.log(2), abs=1e-3)
    with pytest.raises(ValueError, match="sft.lora_r"):
        tuning.sft_trainer(_sft_cfg(lora_r=0, load_in_4bit=True), records, base=tiny_model)


def test_greedy_generation_ignores_the_checkpoints_generation_config(tiny_model, tmp_path):
    from transformers import GenerationConfig
    tok = models.load_tokenizer(tiny_model)
    shutil.copytree(tiny_model, tmp_path / "m")
    GenerationConfig(do_sample=True, temperature=3.0, top_k=2, repetition_penalty=50.0,
                     no_repeat_ngram_size=1).save_pretrained(tmp_path / "m")
    prompts = ["Compute 12+7.", "Make 8 from 3, 5."]
    plain, _ = generation.generate(models.load_model(tiny_model), tok, prompts, max_new_tokens=12)
    shipped, _ = generation.generate(models.load_model(str(tmp_path / "m")), tok, prompts, max_new_tokens=12)
    assert shipped == plain


def test_adapters_store_the_base_path_relative_to_the_repo(tiny_model, repo, monkeypatch):
    # a long root with spaces: the model card's YAML folds such a path across lines
    root = repo / ("a clone in a folder with a long name and spaces " * 2).strip()
    (root / "models").mkdir(parents=True)
    shutil.copy(repo / "dvc.yaml", root / "dvc.yaml")
    shutil.copy(repo / "params.yaml", root / "params.yaml")
    monkeypatch.chdir(root)
    shutil.copytree(tiny_model, root / "models/base")
    sft.train(_sft_cfg(max_steps=1), tiny_items(1, 2), root / "models/sft", base=str(root / "models/base"))
    config_text = (root / "models/sft/adapter_config.json").read_text()
    assert json.loads(config_text)["base_model_name_or_path"] == "models/base"
    assert "base_model: models/base\n" in (root / "models/sft/README.md").read_text()
    for f in (root / "models/sft").glob("*.[jm][sd]*"):
        assert str(repo) not in f.read_text() and "spaces" not in f.read_text(), f.name


def test_training_runs_in_the_precision_every_stage_records(tiny_model, repo):
    """bf16 autocast where this CPU (or GPU) has native bf16, fp32 elsewhere; the weights stay fp32 on CPU either way."""
    want = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[
        models.environment(0)["training_precision"]]
    trainer = tuning.sft_trainer(_sft_cfg(lora_r=0, max_steps=1), tiny_items(1, 2), base=tiny_model)
    seen = []
    trainer.model.model.layers[0].mlp.down_proj.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    trainer.train()
    assert seen and set(seen) == {want}
    if models.device() == "cpu":
        assert {p.dtype for p in trainer.model.parameters()} == {torch.float32}


def test_gradient_checkpointing_param_and_what_an_adapter_was_trained_on(tiny_model, repo):
    assert models.gradient_checkpointing("auto") is (models.device() == "cuda")
    assert models.gradient_checkpointing("true") is True and models.gradient_checkpointing("false") is False
    with pytest.raises(ValueError, match="auto, true or false"):
        models.gradient_checkpointing("yes")
    assert config._coerce("sft", "gradient_checkpointing", True, str) == "true"  # YAML's bool
    trainer = tuning.sft_trainer(_sft_cfg(gradient_checkpointing="true", max_steps=3), tiny_items(1, 2), base=tiny_model)
    assert trainer.args.gradient_checkpointing is True
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if "lora_B" in n}
    trainer.train()  # LoRA still learns through checkpointed layers (grads reach it past frozen embeddings)
    assert any(not torch.equal(before[n], p.detach()) for n, p in trainer.model.named_parameters() if n in before)
    sft.train(_sft_cfg(max_steps=1), tiny_items(1, 2), repo / "models/sft", base=tiny_model)
    assert json.loads((repo / "models/sft/training.json").read_text()) == {"quantization": "none"}
    assert not models.trained_in_4bit(repo / "models/sft")  # so evaluate merges it (CPU: plain LoRA)
    (repo / "models/sft/training.json").write_text('{"quantization": "nf4-4bit"}')
    assert models.trained_in_4bit(repo / "models/sft")
    assert not models.trained_in_4bit(None)  # the base alone: evaluate's `base` model


def test_one_shot_records_show_another_solved_puzzle_as_an_earlier_turn(tiny_model):
    items = tiny_items(0, 5)
    shots = sft.one_shot(items, seed=0)
    assert [r["completion"] for r in shots] == [r["completion"] for r in items]  # the loss is on the second answer
    for r, item in zip(shots, items):
        demo_prompt, demo_answer, question = (m["content"] for m in r["prompt"])
        assert question == item["prompt"] and demo_prompt != item["prompt"]
        assert any(d["prompt"] == demo_prompt and d["completion"] == demo_answer for d in items)
    text = tuning.to_dataset(models.load_tokenizer(tiny_model), shots[:1])["prompt"][0]
    assert text.count("<|user|>") == 2 and text.count("<|assistant|>") == 2 and text.endswith("<|assistant|>\n")
    assert sft.one_shot(items, seed=0) == shots and sft.one_shot(items, seed=1) != shots


def test_a_trained_folder_is_an_adapter_or_whole_weights(tmp_path):
    folder = tmp_path / "sft"
    assert not models.is_trained(folder)  # missing
    folder.mkdir()
    assert not models.is_trained(folder)  # empty: an interrupted save
    (folder / "config.json").write_text("{}")
    assert models.is_trained(folder) and models.is_full_model(folder)
    (folder / "adapter_config.json").write_text("{}")
    assert models.is_trained(folder) and not models.is_full_model(folder)


def test_load_merged_folds_a_lora_adapter_in_with_the_same_logits(tiny_model, repo):
    sft.train(_sft_cfg(max_steps=2, learning_rate=5e-2), tiny_items(2, 6), repo / "models/sft", base=tiny_model)
    ids = torch.tensor([[3, 5, 7, 9, 11]])
    with torch.no_grad():
        plain = models.load_model(tiny_model).eval()(ids).logits
        unmerged = models.load_model(tiny_model, adapter=str(repo / "models/sft"))(ids).logits
        model = models.load_merged(tiny_model, adapter=str(repo / "models/sft"))
        merged = model(ids).logits
    assert not hasattr(model, "peft_config") and not any("lora_" in n for n, _ in model.named_parameters())
    assert not torch.allclose(plain, unmerged, atol=1e-4)  # the adapter moved the model ...
    assert torch.allclose(merged, unmerged, atol=1e-5)     # ... and merging keeps exactly that


def test_load_merged_loads_the_base_as_the_adapter_was_trained(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(models, "load_model", lambda name, adapter=None, load_in_4bit=False: seen.append(load_in_4bit))
    (tmp_path / "training.json").write_text('{"quantization": "nf4-4bit"}')
    models.load_merged("base", adapter=str(tmp_path))           # an adapter trained on nf4: nf4 again
    models.load_merged("base")                                  # no adapter: the base as it is
    models.load_merged("base", adapter=str(tmp_path), load_in_4bit=False)  # the caller may still say
    (tmp_path / "training.json").write_text('{"quantization": "none"}')
    models.load_merged("base", adapter=str(tmp_path))
    assert seen == [True, False, False, False]
