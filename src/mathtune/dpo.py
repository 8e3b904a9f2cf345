"""The dpo stage (Self-Refine Instruction-Tuning, arXiv 2405.00402, phase 2): sample, reward, pair, DPO.

1. Sampling: the policy the earlier stages made (models/mining: the SFT model after mining's continued
   fine-tuning) samples k completions per train question (GSM8K and puzzles), batched,
   seeded, so a re-run samples the same paths.
2. Reward: the one checker (`checker.score`), the same code evaluation uses.
3. Pairs: chosen = a correct sample, rejected = a finished incorrect sample of the same question
   (a sample cut by the token limit is never rejected); with `dpo.gold_fallback` a question with no
   correct sample uses its gold solution as chosen. Identical pairs are dropped. Two levers, off by default
   (docs/sessions.md "Session 27": at two rounds neither lifted validation pass@1; three fresh rounds did once, and
   not on 1,000 other validation puzzles, docs/sessions.md "Session 28"): `dpo.greedy` adds the greedy path to each
   group and rejects it, when wrong, against every correct sample; `dpo.fresh_rounds` gives each round new
   questions.
4. Training: TRL's DPOTrainer on the base model with that LoRA adapter loaded trainable; TRL copies
   it as the frozen reference `ref`, so the reference is the starting policy, not the raw base.
   When SFT trained every weight (sft.lora_r: 0), DPO trains every weight of that model and TRL
   loads a frozen copy of it as the reference.
   `beta` and `loss_type` ("sigmoid", or "sigmoid,sft" for the RPO-style NLL term) are params.
   `load_in_4bit`: on CUDA the base is nf4 (QLoRA, as in sft); on CPU it falls back to plain LoRA.
Run with `dvc repro dpo`.
"""
from __future__ import annotations

import random
import shutil
import time

from datasets import Dataset
from trl import DPOConfig, DPOTrainer

from mathtune import checker, config, generation, io, models, tuning


def sample(cfg, model, tokenizer, items: list[dict], seed: int) -> tuple[list[list[str]], list[list[bool]], dict]:
    """k completions per item (grouped by item), per source so each gets its stop strings, and for
    each completion whether the token limit cut it."""
    texts, stats = generation.generate_per_source(model, tokenizer, items, do_sample=True, temperature=cfg.temperature,
                                                  top_p=cfg.top_p, seed=seed, num_return_sequences=cfg.k,
                                                  batch_size=cfg.batch_size, desc="dpo/sample")
    out = [texts[i * cfg.k:(i + 1) * cfg.k] for i in range(len(items))]
    cut = [stats["truncated"][i * cfg.k:(i + 1) * cfg.k] for i in range(len(items))]
    runs = [stats]
    if cfg.greedy:  # the path pass@1 scores goes first in each group (make_pairs(greedy_first=True) reads it there)
        first, greedy = generation.generate_per_source(model, tokenizer, items, do_sample=False,
                                                       batch_size=cfg.batch_size, desc="dpo/greedy")
        out = [[t] + group for t, group in zip(first, out)]
        cut = [[c] + group for c, group in zip(greedy["truncated"], cut)]
        runs.append(greedy)
    per_source = [st[s] for st in runs for s in ("gsm8k", "puzzles")]
    tokens, seconds = sum(st["tokens"] for st in per_source), sum(st["seconds"] for st in per_source)
    return out, cut, {"sample_tokens": int(tokens), "sample_tokens_per_s": round(tokens / max(seconds, 1e-9), 1)}


def make_pairs(items: list[dict], samples: list[list[str]], gold_fallback: bool,
               truncated: list[list[bool]] | None = None, greedy_first: bool = False) -> tuple[list[dict], dict]:
    """chosen/rejected pairs rewarded by the checker, and their counts.

    Both sides are the policy's own samples wherever a question's group has a correct and an incorrect
    one (arXiv 2405.00402). A sample the token limit cut is never rejected: "unfinished" would be a
    shortcut for the policy to learn instead of "wrong". With `gold_fallback`, a question with no
    correct sample pairs its gold solution (chosen) with its finished wrong samples.
    With `greedy_first` each group's first completion is the policy's greedy path (the one pass@1 scores):
    when it is finished and wrong it is rejected against every distinct correct sample, not one.
    """
    pairs, seen = [], set()
    any_correct = mixed = fell_back = dropped = greedy_wrong = 0
    truncated = truncated or [[False] * len(outs) for outs in samples]
    for item, outs, cuts in zip(items, samples, truncated):
        rewards, cut = {}, {}
        for o, c in zip(outs, cuts):  # distinct samples, in order, scored once
            if o not in rewards:
                rewards[o], cut[o] = checker.score(item, o), c
        good = [o for o, r in rewards.items() if r]
        bad = [o for o, r in rewards.items() if not r and not cut[o]]
        dropped += sum(not r and cut[o] for o, r in rewards.items())
        any_correct += bool(good)
        mixed += bool(good) and bool(bad)
        gold = not good and gold_fallback
        if gold:
            good = [item["completion"]]
        greedy_bad = greedy_first and bool(bad) and bad[0] == outs[0]
        greedy_wrong += greedy_bad and bool(good)
        for j, rejected in enumerate(bad):
            partners = good if greedy_bad and j == 0 else [good[j % len(good)]] if good else []
            for m, chosen in enumerate(partners):
                key = (item["id"], chosen, rejected)
                if chosen == rejected or key in seen:
                    continue
                seen.add(key)
                fell_back += gold
                pairs.append({"id": f"dpo/{item['id']}/{j}" + (f"/{m}" if m else ""), "source": item["source"],
                              "source_id": item["id"], "prompt": item["prompt"], "chosen": chosen,
                              "rejected": rejected, "gold_chosen": gold})
    return pairs, {"questions": len(items), "questions_with_correct": any_correct, "questions_mixed": mixed,
                   "mixed_share": round(mixed / max(1, len(items)), 4), "pairs": len(pairs),
                   "pairs_gold_chosen": fell_back, "self_sampled_share": round(1 - fell_back / max(1, len(pairs)), 4),
                   "truncated_dropped": dropped} | ({"greedy_wrong_fixable": greedy_wrong} if greedy_first else {})


def make_trainer(cfg, pairs: list[dict], adapter: str = "models/sft", base: str = models.LOCAL) -> DPOTrainer:
    """TRL's DPOTrainer on base + the SFT adapter (trainable); TRL adds the frozen copy `ref` as reference."""
    if not pairs:
        raise ValueError("no DPO pairs: every question's samples were all correct or all wrong "
                         "(raise dpo.k or dpo.temperature, or set dpo.gold_fallback: true)")
    models.set_seed(cfg.seed)
    on_cuda = models.device() == "cuda"
    tokenizer = models.load_tokenizer(base)
    model = models.load_model(base, adapter=adapter, trainable=True,
                              load_in_4bit=tuning.quantization(cfg) == "nf4-4bit")
    data = Dataset.from_dict({"prompt": [models.chat_prompt(tokenizer, p["prompt"]) for p in pairs],
                              "chosen": [p["chosen"] for p in pairs], "rejected": [p["rejected"] for p in pairs]})
    args = DPOConfig(output_dir=str(models.checkpoint_dir("dpo")), beta=cfg.beta,
                     loss_type=[t.strip() for t in cfg.loss_type.split(",")], learning_rate=cfg.learning_rate,
                     max_steps=cfg.max_steps, per_device_train_batch_size=cfg.per_device_train_batch_size,
                     logging_steps=1,
                     save_steps=cfg.save_steps, save_total_limit=2, report_to=[], seed=cfg.seed, data_seed=cfg.seed,
                     use_cpu=not on_cuda, **models.mixed_precision(),
                     gradient_checkpointing=models.gradient_checkpointing(cfg.gradient_checkpointing),
                     dataloader_num_workers=0,
                     max_length=512)
    tuning.compact_lm_head()  # completion positions only through the LM head, as in SFT
    return DPOTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)


def train(cfg, pairs: list[dict], out_dir, adapter: str = "models/sft", base: str = models.LOCAL) -> dict:
    """DPO on top of the SFT adapter; the adapter (policy) is saved to out_dir."""
    trainer = make_trainer(cfg, pairs, adapter, base)
    tokenizer = trainer.processing_class
    resume = models.resumable("dpo", {"params": config.asdict(cfg), "pairs": len(pairs), "first": pairs[0]["id"]})
    start = time.perf_counter()
    trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - start
    tuning.save_adapter(trainer.model, tokenizer, out_dir, tuning.quantization(cfg), selected_adapters=["default"])
    shutil.rmtree(models.checkpoint_dir("dpo"), ignore_errors=True)
    log = [h for h in trainer.state.log_history if "loss" in h]
    curve = [{"step": h["step"], "loss": h["loss"], "rewards/margins": h.get("rewards/margins"),
              "rewards/accuracies": h.get("rewards/accuracies"), "rewards/chosen": h.get("rewards/chosen"),
              "rewards/rejected": h.get("rewards/rejected")} for h in log]
    return {"seconds": round(seconds, 1), "steps": cfg.max_steps, "resumed_from": resume,
            "quantization": tuning.quantization(cfg), "peak_memory_mb": round(models.peak_memory_mb(), 1),
            "final_loss": curve[-1]["loss"] if curve else None, "first_loss": curve[0]["loss"] if curve else None,
            "final_reward_accuracy": curve[-1]["rewards/accuracies"] if curve else None, "curve": curve}


def questions(cfg, gsm8k_items: list[dict], puzzle_items: list[dict], rnd: int = 1) -> list[dict]:
    """Round `rnd`'s questions: one seeded draw; with `fresh_rounds` it holds `rounds` times as many and round r
    takes the r-th slice, so no question is asked twice (round 1's are the same either way)."""
    rng, share = random.Random(cfg.seed), cfg.rounds if cfg.fresh_rounds else 1
    lo = rnd - 1 if cfg.fresh_rounds else 0
    out = []
    for pool, n in ((gsm8k_items, cfg.questions_gsm8k), (puzzle_items, cfg.questions_puzzles)):
        out += rng.sample(pool, min(n * share, len(pool)))[lo * n:(lo + 1) * n]
    return out


def stage(cfg) -> tuple[dict, list[dict]]:
    """`dvc repro dpo`: data/dpo/pairs.jsonl and models/dpo.

    Round 1 samples with models/mining's policy and trains from it (reference: that policy);
    each later round samples with the newest policy and trains on from it (reference: that policy).
    """
    from mathtune import gsm8k
    if cfg.rounds < 1:
        raise ValueError(f"params dpo.rounds: must be >= 1, got {cfg.rounds}")
    models.set_seed(cfg.seed)
    pool = (gsm8k.load(io.path("data/gsm8k/train.jsonl")),
            io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target")))
    tok = models.load_tokenizer(models.LOCAL)
    adapter, all_pairs, metrics, curve = "models/mining", [], {}, []
    for rnd in range(1, cfg.rounds + 1):
        items = questions(cfg, *pool, rnd)
        quantized = tuning.quantization(cfg) == "nf4-4bit"
        policy = models.load_merged(models.LOCAL, adapter=adapter, load_in_4bit=quantized)
        samples, cut, sampled = sample(cfg, policy, tok, items, seed=cfg.seed + 1000 * rnd)
        del policy
        pairs, counts = make_pairs(items, samples, cfg.gold_fallback, cut, greedy_first=cfg.greedy)
        all_pairs += [{**p, "round": rnd} for p in pairs]
        out = io.path("models/dpo") if rnd == cfg.rounds else models.checkpoint_dir("dpo-rounds") / f"round{rnd}"
        if pairs:
            trained = train(cfg, pairs, out, adapter=str(io.path(adapter)))
        else:  # every group all right or all wrong: nothing to prefer, the policy goes on unchanged
            with io.atomic_path(out) as tmp:
                shutil.copytree(io.path(adapter), tmp, dirs_exist_ok=True)
            trained = {"seconds": 0.0, "steps": 0, "curve": [], "untrained_no_pairs": True}
        curve += [{**row, "round": rnd} for row in trained.pop("curve")]
        metrics.update({f"round{rnd}/{k}": v for k, v in {**sampled, **counts, **trained}.items()})
        adapter = str(out)
    io.write_jsonl(io.path("data/dpo/pairs.jsonl"), all_pairs)
    last = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith(f"round{cfg.rounds}/")}
    return {**metrics, **last, "rounds": cfg.rounds, "curve": curve}, all_pairs
