"""benchmarks/counts_probe.py: a counted puzzle or list item states its count in the prompt and on each list, and a
counted answer is judged by the one checker exactly as the plain answer (literal strings)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import counts_probe as cp  # noqa: E402

from mathtune import answers, puzzles, sft  # noqa: E402


def test_a_counted_puzzle_states_its_count_and_strips_back_to_the_verified_gold():
    rec = puzzles.record("test", 0, [1, 9, 12, 15, 18], 7,
                         "9-7=2 [1 12 15 18], 2/1=2 [12 15 18], 2*15=30 [12 18], 12+18=30 []")
    out = cp.count(rec)
    assert out["prompt"] == "Make 7 from 5 numbers: 1, 9, 12, 15, 18."
    assert out["completion"] == "9-7=2 [4: 1 12 15 18], 2/1=2 [3: 12 15 18], 2*15=30 [2: 12 18], 12+18=30 [0:]"
    assert cp.strip(out["completion"]) == rec["completion"]
    assert answers.verify(rec["numbers"], rec["target"], cp.strip(out["completion"]))
    # a wrong list stays wrong once its count is stripped: the count never repairs an answer
    assert not answers.verify(rec["numbers"], rec["target"], cp.strip(
        "9-7=2 [4: 1 12 15], 2/1=2 [3: 12 15 18], 2*15=30 [2: 12 18], 12+18=30 [0:]"))


def test_a_counted_list_item_keeps_its_instructions_and_counts_each_list():
    item = {"id": "list/2", "prompt": "Start at 594. With 42, 17: add 42.", "completion": "594+42=636 [17]"}
    assert cp.count(item)["prompt"] == "Start at 594. With 2 numbers: 42, 17; add 42."
    assert cp.count(item)["completion"] == "594+42=636 [1: 17]"
    lists = [cp.count(it) for it in sft.lists(50, 0, 7)]
    assert all(it["completion"].count(":") == it["completion"].count("[") for it in lists)


def test_a_prompt_that_is_neither_a_puzzle_nor_a_list_item_is_named():
    with pytest.raises(ValueError, match="gsm8k/3"):
        cp.count({"id": "gsm8k/3", "prompt": "Janet has 3 ducks.", "completion": "3"})
