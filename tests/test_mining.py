import random

from conftest import REPO
from mathtune import answers, gsm8k, instructor, mining, puzzles

ITEM = {"id": "gsm8k/train/0", "source": "gsm8k", "task": "cot", "answer": "72",
        "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
                    "How many clips did Natalia sell altogether in April and May?",
        "completion": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
                      "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72"}
PUZZLE = {"id": "puzzles/train/0", "source": "puzzles", "task": "cot", "numbers": [3, 6, 7, 51, 58], "target": 4}


def test_rules_analyser_on_literal_gsm8k_bad_cases():
    assert instructor.gsm8k_keyphrases(ITEM, "She sold 72 clips.")[0] == "no final answer"
    assert "arithmetic slip in a calculation" in instructor.gsm8k_keyphrases(ITEM, "48/2 = <<48/2=25>>25\n#### 73")
    assert "missing reasoning step" in instructor.gsm8k_keyphrases(ITEM, "48+48 = <<48+48=96>>96\n#### 96")
    assert "wrong operation chosen" in instructor.gsm8k_keyphrases(ITEM, "48*2 = <<48*2=96>>96\n96+48=<<96+48=144>>144\n#### 144")
    assert "quantity copied wrongly from the question" in instructor.gsm8k_keyphrases(ITEM, "84/2 = <<84/2=42>>42\n42+84=<<42+84=126>>126\n#### 126")


def test_rules_analyser_on_literal_puzzle_bad_cases():
    assert instructor.puzzle_keyphrases(PUZZLE, "58-51=7, 6*7=41") == [
        "arithmetic error", "arithmetic error in multiplication", "error in an early step", "5 integers with large values"]
    assert instructor.puzzle_keyphrases(PUZZLE, "")[0] == "empty"
    assert instructor.puzzle_keyphrases(PUZZLE, "58-51=7, 6-7=-1, 3*-1=-3, -3-7=-10")[0] == "wrong final value"


def test_clustering_is_deterministic_under_a_seed():
    phrases = ["arithmetic error in multiplication", "arithmetic error in addition", "no final answer",
               "missing '####' answer line", "empty; 3 integers", "empty; 4 integers", "wrong operation chosen",
               "missing reasoning step"]
    model = mining.embedder()
    a = mining.cluster(phrases, 3, seed=0, model=model)
    b = mining.cluster(phrases, 3, seed=0, model=model)
    assert list(a[0]) == list(b[0]) and a[1] == b[1]
    assert len(set(a[0])) == 3 and all(name in phrases for name in a[1])


def test_renumbered_gsm8k_answer_equals_the_recomputed_chain():
    made = 0
    for i, item in enumerate(gsm8k.load(REPO / "data/gsm8k/train.jsonl")[:200]):
        new = mining.renumber(item, random.Random(i))
        if new is None:
            continue
        made += 1
        assert new["question"] != item["question"]
        chain = gsm8k.chain(new["completion"])
        assert all(gsm8k.calc(e) == int(r) for e, r in chain)
        assert gsm8k.gold(new["completion"]) == new["answer"] and new["answer"] in {r for _, r in chain}
    assert made >= 40
    tries = [mining.renumber(ITEM, random.Random(seed)) for seed in range(30)]
    assert any(t is None for t in tries)  # an odd new count makes 48/2 non-integer: dropped
    new = next(t for t in tries if t is not None)
    q = int(new["question"].split("to ")[1].split(" of")[0])
    assert q != 48 and q % 2 == 0 and new["answer"] == str(q + q // 2)


def test_synthesised_puzzles_never_hit_a_test_key():
    case = {"item": {**PUZZLE, "numbers": [1, 2, 3]}}
    keys = set()
    for j in range(200):
        n, t, _ = puzzles.generate(random.Random(f"0:{PUZZLE['id']}:{j}"), puzzles.Split("m", 1, 3, 3, 1, 3), "+-*/")
        keys.add((tuple(n), t))
    spec = {"ops": "+-*/", "bound": 10**9, "trace": "steps"}
    made = [mining.synth_puzzle(case, random.Random(f"0:{PUZZLE['id']}:{j}"), spec, keys) for j in range(200)]
    assert all(m is None for m in made)  # every candidate collided with a "test" key and was dropped
    spec = {"ops": "+-*/", "bound": 12, "trace": "state"}
    made = [m for m in (mining.synth_puzzle(case, random.Random(j), spec, set()) for j in range(20)) if m]
    assert made and all(answers.verify(m["numbers"], m["target"], m["completion"]) for m in made)
    assert all(m["completion"].endswith(f"[{m['target']}]") and abs(m["target"]) <= 12 for m in made)
    spec = {"ops": "+-*/", "bound": 12, "trace": "unwind", "hints": 26}  # mined puzzles written as train's are
    made = [m for m in (mining.synth_puzzle(case, random.Random(j), spec, set()) for j in range(20)) if m]
    hinted = [m for m in made if "hints" in m]
    assert len(hinted) >= 15 and all(answers.verify(m["numbers"], m["target"], m["completion"]) for m in made)
    assert all(m["prompt"].startswith(f"Make {m['target']} from {m['hints'][0]}{m['numbers'][0]}, ") for m in hinted)


def test_instructor_replies_parse_into_short_keyphrases():
    assert instructor.parse_keyphrases("1. Arithmetic slip, missing step;\n- \"wrong operation\".") == [
        "arithmetic slip", "missing step", "wrong operation"]
    assert instructor.parse_keyphrases("  ") == []
    assert instructor.parse_keyphrases("The student's error is in the calculation of the total.") == [
        "the calculation of the total"]
    long = "the student did not read the question carefully and then computed the wrong total of all the clips sold"
    assert instructor.parse_keyphrases(f"{long}, unit error, unit error") == ["unit error"]
    # SmolLM2-135M's replies on the default run echoed the instruction (measured): not a keyphrase
    assert instructor.parse_keyphrases(
        "The student's error in 2 to 4 short keyphrases is: the multiplication of 17 by 13") == ["the multiplication of 17 by 13"]
    assert instructor.parse_keyphrases("Describe the student's error in 2 to 4 short keyphrases") == []
    assert instructor.parse_keyphrases("Keyphrases: wrong total, separated by commas") == ["wrong total"]


def test_one_shot_probe_is_the_demo_as_an_earlier_turn_of_the_chat(tiny_model):
    from mathtune import models
    demo = {"prompt": "Use each of the integers 1, 2 exactly once with + - * / to make 3.", "completion": "1+2=3"}
    case = {"item": {**PUZZLE, "prompt": "Use each of the integers 2, 5 exactly once with + - * / to make 10."}}
    text = models.chat_prompt(models.load_tokenizer(tiny_model), mining.one_shot(demo, case))
    assert text == ("<|user|>\nUse each of the integers 1, 2 exactly once with + - * / to make 3.\n"
                    "<|assistant|>\n1+2=3<|eos|>\n"
                    "<|user|>\nUse each of the integers 2, 5 exactly once with + - * / to make 10.\n<|assistant|>\n")


def test_an_instructor_model_writes_keyphrases_or_the_rules_remain(tiny_model):
    cases = [{"item": {**ITEM, "prompt": gsm8k.load(REPO / "data/gsm8k/train.jsonl")[0]["prompt"]},
              "output": "#### 24", "keyphrases": ["missing reasoning step"]},
             {"item": {**PUZZLE, "prompt": "P", "completion": "58-51=7, 6-7=-1, 3*-1=-3, -3+7=4"},
              "output": "58-51=7", "keyphrases": ["number left unused"]}]
    phrases, stats = instructor.keyphrases(tiny_model, cases, batch_size=2)
    assert len(phrases) == 2 and all(p and all(isinstance(x, str) and x for x in p) for p in phrases)
    fallback = stats["instructor/fallback_to_rules"]
    assert [p == c["keyphrases"] for p, c in zip(phrases, cases)].count(True) >= fallback


def test_a_mining_round_with_an_instructor_model_keeps_the_rules_phrases_beside_its_own(tiny_model):
    import types

    from conftest import tiny_items
    from mathtune import models
    items = tiny_items(n_gsm8k=6, n_puzzles=12)
    cfg = types.SimpleNamespace(seed=0, instructor=tiny_model, sample_gsm8k=6, sample_puzzles=12, num_types=2,
                                per_type=2, batch_size=8, heldout_per_type=2, match_hardness=True)
    out = mining.run(cfg, models.load_model(tiny_model), models.load_tokenizer(tiny_model),
                     [i for i in items if i["source"] == "gsm8k"], [i for i in items if i["source"] == "puzzles"], set(),
                     {"ops": "+-*/", "bound": 100, "trace": "steps"})
    assert out["cases"] and all(c["rule_keyphrases"] and c["keyphrases"] for c in out["cases"])
    assert 0 <= out["metrics"]["instructor/fallback_to_rules"] <= len(out["cases"])
    assert sum(t["size"] for t in out["types"]) == len(out["cases"]) and 1 <= len(out["types"]) <= 2
    assert out["metrics"]["candidates"] == sum(t["candidates"] for t in out["types"])
    held = mining.keys(out["heldout"])  # drawn first: no candidate is a held-out item
    assert out["heldout"] and not held & mining.keys(out["targeted"]) and out["metrics"]["heldout"] == len(out["heldout"])


def test_a_round_trains_on_kept_items_at_their_share_topped_up_with_replay_to_a_fixed_size():
    import types
    cfg = types.SimpleNamespace(seed=0, round_max_steps=2, kept_share=0.5)  # x 16 = 32 examples, 16 of them kept items
    train = [{"id": f"puzzles/train/{i}"} for i in range(100)]
    kept = [{"id": f"mining/r1/0/{i}"} for i in range(5)]
    records = mining.round_records(cfg, 1, kept, train)
    assert len(records) == 32 and [r["id"] for r in records].count("mining/r1/0/0") == 4  # 16 = 5 items, repeated
    assert sum(r["id"].startswith("mining/") for r in records) == 16
    control = mining.round_records(cfg, 1, [], train)  # mining.per_type: 0 trains as many steps on replay alone
    assert len(control) == 32 and all(r["id"].startswith("puzzles/train/") for r in control)
    assert mining.round_records(cfg, 1, kept, train) == records  # seeded


def test_search_hardness_of_literal_puzzles_and_matched_synthesis():
    # 2, 2 -> 4: the legal first moves are 2+2, 2-2, 2*2, 2/2 in both orders; 2+2 and 2*2 (twice each) make 4
    assert mining.good_first_moves([2, 2], 4) == 4 / 8
    assert mining.good_first_moves([1, 2], 99) == 0.0
    case = {"item": {**PUZZLE, "numbers": [5, 18, 18], "target": 31, "id": "puzzles/train/0"}}
    spec = {"ops": "+-*/", "bound": 100, "trace": "unwind"}
    limit = mining.good_first_moves([5, 18, 18], 31)  # 0.3: a train puzzle's
    made = [mining.synth_puzzle(case, random.Random(j), spec, set(), hard=True) for j in range(10)]
    easy = [mining.synth_puzzle(case, random.Random(j), spec, set()) for j in range(10)]
    assert all(m and mining.good_first_moves(m["numbers"], m["target"]) <= limit for m in made)
    assert sum(mining.good_first_moves(m["numbers"], m["target"]) for m in made) < \
        sum(mining.good_first_moves(m["numbers"], m["target"]) for m in easy if m)


def test_heldout_items_per_type_are_fresh_and_labelled():
    import types
    cfg = types.SimpleNamespace(seed=0, heldout_per_type=20, match_hardness=False)
    spec = {"ops": "+-*/", "bound": 100, "trace": "steps"}
    cases = [{"item": {**PUZZLE, "numbers": [2, 5, 9], "id": "puzzles/train/7"}, "type": 0},
             {"item": ITEM, "type": 1}]  # a GSM8K-only type gets no puzzle items
    first = mining.heldout(cfg, cases, ["arithmetic error", "no final answer"], spec, set())
    assert first and all(r["type"] == 0 and r["type_name"] == "arithmetic error" for r in first)
    keys = {(tuple(r["numbers"]), r["target"]) for r in first}
    assert len(keys) == len(first) and all(len(r["numbers"]) == 3 and answers.verify(r["numbers"], r["target"], r["completion"])
                                           for r in first)
    assert mining.heldout(cfg, cases, ["arithmetic error", "no final answer"], spec, set(keys)) == []  # taken: skipped
