from fractions import Fraction

import pytest

from mathtune import checker, gsm8k

ANSWER = "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips.\n#### 72"


@pytest.mark.parametrize("text, strict, flexible", [
    ("so she has 5 + 3 = 8 apples\n#### 8", "8", "8"),
    ("The total is $1,250.\n#### $1,250", None, "1250"),
    ("#### 1,250", "1250", "1250"),
    ("It costs 18.", None, "18"),
    ("#### -3", "-3", "-3"),
    ("no digits here", None, None),
    ("first 12 then 7\n#### 12 and later 99", "12", "99"),
])
def test_extract_follows_lm_eval(text, strict, flexible):
    assert gsm8k.extract(text, "strict") == strict
    assert gsm8k.extract(text, "flexible") == flexible


def test_is_correct_takes_the_whole_answer_field_or_the_bare_number():
    assert gsm8k.is_correct("... #### 72", ANSWER, "strict")
    assert gsm8k.is_correct("they sold 72.", "72")
    assert not gsm8k.is_correct("they sold 72. then 3", "72")
    assert not gsm8k.is_correct("they sold 72.", ANSWER, "strict")
    with pytest.raises(ValueError, match="mode"):
        gsm8k.extract("1", "loose")


def test_calculator_chain_is_parsed_and_evaluated_without_eval():
    assert gsm8k.chain(ANSWER) == [("48/2", "24"), ("48+24", "72")]
    assert gsm8k.calc("(3+4)*2.5") == Fraction(35, 2)
    assert gsm8k.calc("-2*-3") == 6
    for bad in ("__import__('os')", "2**99999", "1/0", "x+1", "9" * 300):
        with pytest.raises(ValueError):
            gsm8k.calc(bad)


def test_steps_drop_the_answer_line():
    assert gsm8k.steps(ANSWER) == ANSWER.split("\n")[:2]


def test_one_checker_dispatches_on_source_and_task():
    g = {"source": "gsm8k", "task": "cot", "answer": "72", "completion": ANSWER}
    assert checker.score(g, "#### 72") and not checker.score(g, "72") and checker.score(g, "72", "flexible")
    p = {"source": "puzzles", "task": "cot", "numbers": [1, 2], "target": 3, "completion": "1+2=3"}
    assert checker.score(p, "2+1=3") and not checker.score(p, "2*1=2")
    d = {"source": "puzzles", "task": "ir", "completion": "51"}
    assert checker.score(d, " 51 ") and not checker.score(d, "52")
    assert not checker.score(p, None)


def test_every_score_carries_its_wilson_interval():
    from mathtune import evaluate, stats
    items = [{"id": f"p{i}", "source": "puzzles", "task": "cot", "numbers": [1, 2], "target": 3, "prompt": "P",
              "completion": "1+2=3"} for i in range(4)]
    metrics, rows = evaluate.score_set("in_domain", items, ["1+2=3", "2+1=3", "1*2=2", ","])
    assert metrics["puzzles/in_domain/pass@1"] == 0.5 and [r["correct"] for r in rows] == [True, True, False, False]
    lo, hi = stats.wilson(2, 4)
    assert (metrics["puzzles/in_domain/pass@1_ci95_low"], metrics["puzzles/in_domain/pass@1_ci95_high"]) == (lo, hi)
    assert rows[3]["reason"].startswith("number left unused")  # separators only: a reason, not a crash
