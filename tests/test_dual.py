import random
import re
import types

from conftest import REPO, tiny_items
from mathtune import dual, gsm8k, io, protocol

CFG = types.SimpleNamespace(seed=0, gsm8k_size=60, puzzles_size=200, irsp_mask_steps=1)


def test_both_tasks_from_both_sources_with_their_source_id():
    items = tiny_items()
    irsp, ir = dual.build(CFG, items[:60], items[60:])
    by_id = {it["id"]: it for it in items}
    for recs, task in ((irsp, "irsp"), (ir, "ir")):
        assert {r["source"] for r in recs} == {"gsm8k", "puzzles"}
        assert all(r["task"] == task and r["source_id"] in by_id and protocol.MASK in r["prompt"] for r in recs)
        assert len(recs) >= 0.8 * len(items)


def test_masked_content_is_recoverable_from_what_is_shown():
    items = tiny_items()
    irsp, ir = dual.build(CFG, items[:60], items[60:])
    by_id = {it["id"]: it for it in items}
    for r in ir:
        src = by_id[r["source_id"]]
        shown_solution = r["prompt"].split("Steps: " if r["source"] == "puzzles" else "Solution:\n")[-1]
        assert r["completion"].replace(",", "") in shown_solution.replace(",", "")  # the value is in the solution
        if r["source"] == "gsm8k":
            assert r["prompt"].replace(protocol.MASK, r["completion"], 1).find(src["question"]) != -1
    for r in irsp:
        src = by_id[r["source_id"]]
        assert r["prompt"].replace(protocol.MASK, r["completion"]).endswith(
            src["completion"].split("\n####")[0] if r["source"] == "gsm8k" else src["completion"])
        if r["source"] == "puzzles":  # a masked step's operands and result are visible elsewhere
            a, b, c = re.fullmatch(r"(-?\d+)[-+*/](-?\d+)=(-?\d+)", r["completion"]).groups()
            shown = r["prompt"].replace(protocol.MASK, "")
            assert all(re.search(rf"(?<![\d]){re.escape(x.lstrip('-'))}(?![\d])", shown) for x in (a, b, c))


def test_same_seed_same_bytes_and_no_test_item_leaks(tmp_path):
    g = gsm8k.load(REPO / "data/gsm8k/train.jsonl")
    items = tiny_items()
    a, b = dual.build(CFG, g, items[60:]), dual.build(CFG, g, items[60:])
    io.write_jsonl(tmp_path / "a.jsonl", a[0] + a[1])
    io.write_jsonl(tmp_path / "b.jsonl", b[0] + b[1])
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    test_questions = {t["question"] for t in gsm8k.load(REPO / "data/gsm8k/test_first300.jsonl")}
    assert not any(q in r["prompt"] for r in a[0] + a[1] if r["source"] == "gsm8k" for q in test_questions)
    assert all(r["source_id"].startswith(("gsm8k/train/", "puzzles/train/")) for r in a[0] + a[1])


def test_puzzle_instances_write_the_integers_as_the_prompt_does():
    item = {"id": "puzzles/train/0", "source": "puzzles", "task": "cot", "numbers": [3, 5], "target": 2,
            "hints": "cq", "prompt": "Make 2 from c3, q5.", "completion": "q5-c3=2 []"}
    ir = dual.puzzle_ir(item, random.Random(0))
    assert ir["completion"] in ("c3", "q5", "2") and ("c3" in ir["prompt"] or "q5" in ir["prompt"])
    irsp = dual.puzzle_irsp(item, random.Random(0))
    assert "c3, q5" in irsp["prompt"] and irsp["completion"] == "q5-c3=2 []"


def test_irsp_masks_k_steps():
    item = next(it for it in tiny_items(60, 0) if len(gsm8k.steps(it["completion"])) >= 4)
    rec = dual.gsm8k_irsp(item, random.Random(0), 2)
    assert rec["prompt"].count(protocol.MASK) == 2 and rec["completion"].count("\n") == 1
