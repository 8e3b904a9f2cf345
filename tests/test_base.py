"""The base stage's corpus and packing: no puzzle in the corpus, attention kept inside each document."""
import re

import pytest

import torch

from mathtune import answers, arithmetic, base, models, protocol


def test_arithmetic_corpus_is_generic_calculation_with_no_puzzle_in_it():
    items = arithmetic.corpus(3000, seed=0)
    assert len({it["id"] for it in items}) == 3000
    for it in items:
        assert not it["prompt"].startswith(protocol.PUZZLE_PROMPT.split(" ")[0]) and " from " not in it["prompt"]
        assert "[" not in it["completion"]  # no state trace
        assert re.fullmatch(r"Compute [-0-9+*/()]+\.", it["prompt"])
        # every step is right, and the chain ends at the answer
        for step in it["completion"].split(", "):
            a, op, b, c = re.fullmatch(r"(-?\d+)([-+*/])(-?\d+)=(-?\d+)", step).groups()
            assert answers._apply(int(a), op, int(b)) == int(c)
        assert int(it["completion"].rsplit("=", 1)[1]) == it["answer"]
    assert any(it["answer"] < 0 for it in items) and max(abs(it["answer"]) for it in items) >= 500
    assert arithmetic.corpus(50, seed=0) == items[:50]  # per-item RNG: a prefix is the same items


def test_arithmetic_small_widens_the_operands_and_leaves_the_default_corpus_as_it_was():
    # the default corpus and probe are the ones every base before base.arithmetic_small was built from
    assert arithmetic.corpus(3, seed=0)[2]["completion"] == "71-15=56"
    assert arithmetic.probe(300, 0)[0]["prompt"] == "Compute 15+14."

    def two_digit_facts(items):  # single facts with both operands in 21-60: what ood_range steps are made of
        facts = [re.fullmatch(r"Compute (-?\d+)[-+](-?\d+)\.", it["prompt"]) for it in items]
        return sum(bool(f) and all(21 <= int(x) <= 60 for x in f.groups()) for f in facts)

    assert two_digit_facts(arithmetic.corpus(4000, seed=0, small=100)) > 2 * two_digit_facts(arithmetic.corpus(4000, seed=0))
    probe = arithmetic.probe(50, 0, 21, 60, "+-")
    assert all(21 <= int(x) <= 60 for it in probe for x in re.findall(r"\d+", it["prompt"]))
    assert {it["id"] for it in probe}.isdisjoint(it["id"] for it in arithmetic.probe(50, 0))


def test_tokenizer_splits_digits_and_operators(tiny_model):
    tok = models.load_tokenizer(tiny_model)
    pieces = tok.convert_ids_to_tokens(tok("12=-345, 7--2", add_special_tokens=False)["input_ids"])
    assert "".join(pieces).replace("\u0120", " ") == "12=-345, 7--2"
    assert {p for p in pieces if any(ch in p for ch in "=-0123456789")} <= set("=-0123456789")


def test_a_document_packed_after_another_sees_only_itself(tiny_model):
    tok = models.load_tokenizer(tiny_model)
    model = models.load_model(tiny_model)
    doc = tok("Compute 12+7. 12+7=19", add_special_tokens=False)["input_ids"]
    other = tok("A different document that comes first.", add_special_tokens=False)["input_ids"]
    alone = base.collate([{"input_ids": doc, "seq_lengths": [len(doc)]}], tok.pad_token_id)
    after = base.collate([{"input_ids": other + doc, "seq_lengths": [len(other), len(doc)]}], tok.pad_token_id)
    assert after["position_ids"][0, len(other)] == 0 and after["labels"][0, len(other)] == -100
    with torch.no_grad():
        a = model(input_ids=alone["input_ids"], position_ids=alone["position_ids"]).logits[0]
        b = model(input_ids=after["input_ids"], position_ids=after["position_ids"]).logits[0, len(other):]
        # the same ids without per-document positions do see the first document: the test can fail
        c = model(input_ids=after["input_ids"]).logits[0, len(other):]
    assert torch.allclose(a, b, atol=1e-5)
    assert not torch.allclose(a, c, atol=1e-3)


def test_packing_keeps_every_document_whole():
    tok = base.train_tokenizer(["Compute 1+2. 1+2=3"] * 20 + protocol.prompt_texts(), 300)
    docs = base.corpus(tok, arithmetic.corpus(200, seed=1))
    data = base.packed(tok, docs, 64)
    lengths = sorted(n for row in data["seq_lengths"] for n in row)
    # one row per document at most: a document longer than a row is truncated, never split
    assert lengths == sorted(min(64, len(tok(d, add_special_tokens=False)["input_ids"])) for d in docs)
    assert all(len(row) <= 64 for row in data["input_ids"])


def test_the_arithmetic_probe_scores_exact_facts_only(tiny_model, monkeypatch):
    items = arithmetic.probe(4, seed=0)
    for it in items:  # literal facts of 1-20, right by construction
        a, op, b, c = re.fullmatch(r"(\d+)([-+*])(\d+)=(-?\d+)", it["completion"]).groups()
        assert 1 <= int(a) <= 20 and 1 <= int(b) <= 20 and answers._apply(int(a), op, int(b)) == int(c)
        assert it["prompt"] == f"Compute {a}{op}{b}."
    from mathtune import generation
    outputs = [items[0]["completion"], " " + items[1]["completion"], items[2]["completion"] + "0", "12"]
    monkeypatch.setattr(generation, "generate", lambda *a, **k: (outputs, {}))
    model = models.load_model(tiny_model)
    got = base.arithmetic_exact(model, models.load_tokenizer(tiny_model), items)
    assert got["arithmetic/exact"] == 0.5 and got["arithmetic/items"] == 4  # a wrong digit or a bare number fails
    assert got["arithmetic/exact_ci95_low"] < 0.5 < got["arithmetic/exact_ci95_high"]


def test_number_digits_lets_bpe_merge_numbers_of_up_to_that_many_digits():
    texts = ["Compute 15*3. 15*3=45, 45-100=-55, 1234"] * 50 + protocol.prompt_texts()
    one, three = base.train_tokenizer(texts, 400), base.train_tokenizer(texts, 400, number_digits=3)
    assert one.tokenize("15*3=45") == ["1", "5", "*", "3", "=", "4", "5"]
    assert three.tokenize("15*3=45") == ["15", "*", "3", "=", "45"]
    assert three.tokenize("-1234")[:3] == ["-", "123", "4"]  # runs of three, left to right; the sign apart
    with pytest.raises(ValueError, match="base.number_digits"):
        base.train_tokenizer(texts, 400, number_digits=0)


def test_fourier_numbers_give_each_number_token_its_value_and_nothing_else(tiny_model):
    import math
    tok = models.load_tokenizer(tiny_model)
    model = models.load_model(tiny_model)
    before = model.get_input_embeddings().weight.detach().clone()
    set_rows = base.fourier_numbers(model, tok)
    after = model.get_input_embeddings().weight.detach()
    vocab = tok.get_vocab()
    assert set_rows == sum(t.isascii() and t.isdigit() and str(int(t)) == t for t in vocab) >= 10  # one token a digit
    seven = vocab["7"]
    # period 2 (cos pi*7 = -1, sin = 0), then period 3 (cos 14pi/3 = -1/2), ... 0.3 times each
    assert after[seven, 0].item() == pytest.approx(-0.3) and after[seven, 1].item() == pytest.approx(0.0, abs=1e-6)
    assert after[seven, 2].item() == pytest.approx(0.3 * math.cos(2 * math.pi * 7 / 3), abs=1e-6)
    n = 2 * len(base.FOURIER_PERIODS)
    assert torch.equal(after[seven, n:], before[seven, n:])  # the rest of the row stays as initialised
    assert torch.equal(after[vocab["="]], before[vocab["="]])  # not a number: untouched
    assert not torch.allclose(after[vocab["3"], :n], after[seven, :n])  # numbers differ by their value


def test_an_unknown_number_embedding_is_refused_before_anything_is_written(tmp_path):
    import types
    cfg = types.SimpleNamespace(model="local", number_embedding="sinusoidal")
    with pytest.raises(ValueError, match="base.number_embedding"):
        base.build(cfg, [], tmp_path / "base")
    assert not (tmp_path / "base").exists()


def test_sft_replays_calculations_over_the_base_corpus_range(repo):
    from mathtune import sft
    params = repo / "params.yaml"
    for small in (20, 100):
        params.write_text(re.sub(r"arithmetic_small: \d+", f"arithmetic_small: {small}", params.read_text()))
        assert sft.replay(40, seed=3) == arithmetic.corpus(40, 3, small=small)
    assert sft.replay(40, seed=3) != arithmetic.corpus(40, 3, small=20)  # the range reaches the draws


def test_list_items_write_the_numbers_left_after_each_named_step():
    from mathtune import sft
    items = sft.lists(2000, seed=0, max_steps=3)
    assert items[5]["prompt"] == "Start at 919. With 3, 679: add 3, then add 679."
    assert items[5]["completion"] == "919+3=922 [679], 922+679=1601 []" and items[5]["answer"] == 1601
    lengths = set()
    for it in items:
        start, listed = re.fullmatch(r"Start at (-?\d+)\. With ([-0-9, ]+): .+\.", it["prompt"]).groups()
        pool, cur = sorted(int(x) for x in listed.split(", ")), int(start)
        for step in it["completion"].split(", "):
            a, op, b, c, left = re.fullmatch(r"(-?\d+)([-+*/])(-?\d+)=(-?\d+) \[([-0-9 ]*)\]", step).groups()
            a, b, c = int(a), int(b), int(c)
            assert answers._apply(a, op, b) == c and cur in (a, b)  # each step goes on from the last result
            pool.remove(b if a == cur else a)  # the named operand leaves the list
            assert [int(x) for x in left.split()] == pool  # ... and the rest is written back, sorted
            lengths.add(len(pool))
            cur = c
        assert cur == it["answer"]
    assert lengths == set(range(7)) and any(21 <= v <= 60 for it in items for v in map(int, re.findall(r"\d+", it["prompt"])))
    assert sft.lists(30, seed=0, max_steps=3) == items[:30]
    assert sft.lists(30, seed=1, max_steps=3) != items[:30]


def test_list_steps_lets_a_chain_empty_its_list():
    from mathtune import sft
    short, long = sft.lists(3000, seed=0, max_steps=3), sft.lists(3000, seed=0, max_steps=7)
    steps = [it["completion"].count("[") for it in long]
    assert max(it["completion"].count("[") for it in short) == 3 and max(steps) == 7
    assert sum(s >= 4 for s in steps) > 500  # answers of four steps and more, none in the default's items
    seven = next(it for it in long if it["completion"].count("[") == 7)
    assert seven["completion"].endswith(" []") and seven["prompt"].count(", then ") == 6  # every number named, used
    assert [it["prompt"] for it in long][:50] == [it["prompt"] for it in sft.lists(50, seed=0, max_steps=7)]
    with pytest.raises(ValueError, match="sft.list_steps"):
        sft.lists(5, seed=0, max_steps=0)
