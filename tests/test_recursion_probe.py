"""benchmarks/recursion_probe.py: a gold unwind answer becomes one example per step under its sub-puzzle's
prompt, and the harness-kept list never repairs a step the prompt does not allow (literal strings)."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import recursion_probe as rp  # noqa: E402

from mathtune import answers, puzzles  # noqa: E402


def test_a_gold_unwind_answer_splits_into_sub_puzzles_whose_steps_join_back_to_a_verified_answer():
    rec = puzzles.record("train", 0, [2, 3, 15, 15], 48, "48-3=45 [2 15 15], 45-15=30 [2 15], 15*2=30 []")
    steps = rp.single_steps(rec)
    assert [(s["prompt"], s["completion"]) for s in steps] == [
        ("Make 48 from 2, 3, 15, 15.", "48-3=45 [2 15 15]"),
        ("Make 45 from 2, 15, 15.", "45-15=30 [2 15]"),
        ("Make 30 from 2, 15.", "15*2=30 []")]
    assert answers.verify(rec["numbers"], rec["target"], ", ".join(s["completion"] for s in steps))
    # a forward (state) answer carries no goal from step to step: no examples
    fwd = puzzles.record("train", 1, [2, 3, 15, 15], 48, "2+15=17 [3 15 17], 3*17=51 [15 51], 51-15=36 []")
    assert rp.single_steps(fwd) == []


def test_the_harness_keeps_the_prompts_integers_less_the_one_taken_and_ends_on_a_step_it_does_not_allow():
    assert rp.kept_step("48-3=45 [9 9]", "48", [2, 3, 15, 15]) == ("48-3=45 [2 15 15]", "45", [2, 15, 15])
    assert rp.kept_step("7-45=-38 [2 15]", "45", [2, 7, 15]) == ("7-45=-38 [2 15]", "-38", [2, 15])
    assert rp.kept_step("15*2=30", "30", [2, 15]) == ("15*2=30 []", "30", [])  # the last call takes both
    assert rp.kept_step("2*2=4 [2 8 8]", "0", [2, 2, 7, 8, 8]) is None  # no goal operand: not an unwind step
    assert rp.kept_step("48-4=44 [2 3 15]", "48", [2, 3, 15, 15]) is None  # 4 is not in the prompt
    assert rp.kept_step("3 13=-10 [14 14 19]", "3", [3, 13, 14, 14, 19]) is None  # not a step


def test_a_whole_puzzles_first_prompt_is_its_own_v2_prompt():
    rec = puzzles.record("test", 3, [2, 3, 15, 15], 48, "")
    assert rp.first_prompt(rec) == rec["prompt"] == "Make 48 from 2, 3, 15, 15."


def test_the_sft_mix_draws_one_single_step_a_train_puzzle_and_refuses_a_trace_without_goal_chains():
    from mathtune import sft
    recs = [puzzles.record("train", 0, [2, 3, 15, 15], 48, "48-3=45 [2 15 15], 45-15=30 [2 15], 15*2=30 []"),
            puzzles.record("train", 1, [10, 13, 18], -21, "-21+18=-3 [10 13], 10-13=-3 []")]
    drawn = sft.sub_steps(recs, seed=0)
    assert len(drawn) == 2 and drawn == sft.sub_steps(recs, seed=0)
    assert {d["completion"] for d in drawn} <= {"48-3=45 [2 15 15]", "45-15=30 [2 15]", "15*2=30 []",
                                                "-21+18=-3 [10 13]", "10-13=-3 []"}
    fwd = [puzzles.record("train", 2, [2, 3, 15, 15], 48, "2+15=17 [3 15 17], 3*17=51 [15 51], 51-15=36 []")]
    with pytest.raises(ValueError, match="puzzles.trace: unwind"):
        sft.sub_steps(fwd, seed=0)
