import json
import random
import re
import types

import pytest
from hypothesis import given, settings, strategies as st

from mathtune import answers, io, puzzles

PAPER = ([3, 6, 7, 51, 58], 4, "58-51=7, 6-7=-1, 3*-1=-3, -3+7=4")


def test_paper_example_verifies_ascii_and_unicode_and_any_spacing():
    assert answers.verify(*PAPER)
    assert answers.verify([3, 6, 7, 51, 58], 4, "58 \u2212 51 = 7, 6\u22127=\u22121, 3 \u00d7 \u22121 = \u22123, \u22123+7=4")
    assert answers.verify([3, 6, 7, 51, 58], 4, "58-51=7,6-7=-1,3*-1=-3,-3+7=4.")
    assert answers.verify([2, 8], 4, "8 \u00f7 2 = 4")


@pytest.mark.parametrize("solution, reason", [
    ("58-51=7, 6-7=-1, 3*-1=-3", "number left unused"),
    ("58-51=8, 6-8=-2, 3*-2=-6, -6+7=1", "arithmetic error"),
    ("58-50=8, 6-8=-2, 3*-2=-6, -6+7=1", "operand not available"),
    ("58-51=7, 6-7=-1, 3*-1=-3, -3-7=-10", "wrong final value"),
    ("58-51=7, 7-7=0, 58-51=7", "operand not available"),
    ("the answer is 4", "bad format"),
    ("", "empty"),
    (",", "number left unused"),
    (" ; , \n", "number left unused"),
    ("58-51=7 [3 6 7 7], 6-7=-1 [-1 3 7], 3*-1=-3 [-3 7], -3+7=4 [4]", None),
    ("58-51=7 [3 6 7 8], 6-7=-1 [-1 3 7], 3*-1=-3 [-3 7], -3+7=4 [4]", "wrong state"),
    ("58-51=7 [3 6 7], 6-7=-1 [-1 3 7], 3*-1=-3 [-3 7], -3+7=4 [4]", "wrong state"),
    ("58-51=7 [3 6 7 7], 6-7=-1, 3*-1=-3 [-3 7], -3+7=4", None),
    ("58-51=7 [3 6 7 7 x]", "bad format"),
    ("58-51=\u0667 [3 6 7 7]", "bad format"),
])
def test_check_names_the_reason(solution, reason):
    got = answers.check(PAPER[0], PAPER[1], solution)
    assert got == reason if reason is None else got.startswith(reason)


def test_inexact_division_is_refused():
    assert answers.check([7, 2], 3, "7/2=3").startswith("inexact division")
    assert answers.check([7, 0], 0, "7/0=0").startswith("inexact division")


@pytest.mark.parametrize("hostile", [
    "__import__('os').system('echo pwned')",
    "9**9**9**9",
    "1" * 5000 + "+1=2",
    "1+1=" + "9" * 5000,
    ", ".join(["1+1=2"] * 2000),
    "\x00\x01\ud800",
    None,
    12,
])
def test_verifier_never_raises_on_hostile_input(hostile):
    assert answers.verify([1, 1], 2, hostile) is False


def test_solve_finds_valid_solutions_and_certifies_unsolvable():
    assert answers.verify(PAPER[0], PAPER[1], answers.solve(PAPER[0], PAPER[1]))
    assert answers.solve([1, 1], 5) is None
    assert answers.solve([2, 3, 5], 1000) is None


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**9), n=st.integers(2, 6), hi=st.integers(1, 200))
def test_generated_puzzles_verify_and_mutations_fail(seed, n, hi):
    rng = random.Random(seed)
    numbers, target, solution = puzzles.generate(rng, puzzles.Split("t", 1, n, n, 1, hi), "+-*/")
    assert len(numbers) == n and solution.count("=") == n - 1
    assert answers.verify(numbers, target, solution)
    assert not answers.verify(numbers, target + 1, solution)
    assert not answers.verify(numbers + [hi + 1], target, solution)  # an integer left unused
    steps = solution.split(", ")
    a, c = steps[-1].split("=")
    assert not answers.verify(numbers, target, ", ".join(steps[:-1] + [f"{a}={int(c) + 1}"]))


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**9), n=st.integers(2, 6), bound=st.integers(60, 500))
def test_bounded_state_traces_verify_and_list_the_numbers_left(seed, n, bound):
    numbers, target, solution = puzzles.generate(random.Random(seed), puzzles.Split("t", 1, n, n, 1, 60), "+-*/",
                                                 bound, "state")
    assert answers.verify(numbers, target, solution)
    steps = [s.split(" [")[0] for s in solution.split(", ")]
    assert answers.verify(numbers, target, ", ".join(steps))  # the same steps without the state
    values = [int(v) for s in steps for v in (s.split("=")[1], )] + [target]
    assert all(abs(v) <= bound for v in values)
    assert solution.endswith(f"[{target}]")
    if n > 2:  # a wrong list after the first step is refused
        first, rest = solution.split(", ", 1)
        assert answers.check(numbers, target, first.split(" [")[0] + " [0 0], " + rest).startswith("wrong state")


def test_goal_trace_is_the_papers_example_written_last_step_first():
    numbers, target, _ = PAPER
    text = "-3+7=4 [3 6 51 58], 3*-1=-3 [6 51 58], 6-7=-1 [51 58], 58-51=7 []"
    assert answers.check(numbers, target, text) is None
    assert answers.verify(numbers, target, "-3+7=4, 3*-1=-3, 6-7=-1, 58-51=7")  # no lists: the steps alone
    # read last to first, each wrong piece gets its reason, step by step; check() refuses each of them
    # and names its first-to-last reason (what a `state` run's mining has always seen)
    broken = {text.replace("[6 51 58]", "[6 51 57]"): "wrong state: step 2",
              text.replace("3*-1=-3", "3*-1=-4"): "wrong final value: step 2",
              text.replace("6-7=-1", "6-8=-1"): "arithmetic error: step 3",
              text.replace("58-51=7 []", "58-58=0 []"): "wrong final value",
              # one step short: step 3 is read as the innermost, whose operands must both be given integers
              text.rsplit(", ", 1)[0]: "operand not available: step 3"}
    for wrong, reason in broken.items():
        assert answers._backward(numbers, target, wrong.split(", ")).startswith(reason)
        assert answers.check(numbers, target, wrong) == answers._forward(numbers, target, wrong.split(", "))
        assert answers.check(numbers, target, wrong).startswith("operand not available: step 1")
    assert answers._backward([1, 2, 3], 3, ["1+2=3"]).startswith("number left unused")
    assert answers._backward([3, 6, 7, 51, 58], 4, ["4*1=4", "3*-1=-3"]).startswith("operand not available: step 1")


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**9), n=st.integers(2, 5), bound=st.integers(60, 500))
def test_goal_traces_verify_list_the_given_integers_left_and_draw_the_same_puzzle(seed, n, bound):
    split = puzzles.Split("t", 1, n, n, 1, 20)
    numbers, target, solution = puzzles.generate(random.Random(seed), split, "+-*/", bound, "goal")
    assert (numbers, target) == puzzles.generate(random.Random(seed), split, "+-*/", bound, "state")[:2]
    assert answers.verify(numbers, target, solution)
    if solution.endswith("[]"):  # a chain was found (else the drawn path, `state`, ~2 % of N = 4)
        steps = solution.split(", ")
        assert len(steps) == n - 1 and steps[0].split(" [")[0].endswith(f"={target}")
        assert [len(s.split("[")[1].rstrip("]").split()) for s in steps] == [n - 1 - k for k in range(n - 2)] + [0]
        assert all(abs(int(v)) <= bound for s in steps for v in re.findall(r"-?\d+", s.split(" [")[0]))


def test_unwind_trace_is_the_papers_example_computing_each_next_goal():
    numbers, target, _ = PAPER
    text = "4-7=-3 [3 6 51 58], -3/3=-1 [6 51 58], 6--1=7 [51 58], 58-51=7 []"
    assert answers.check(numbers, target, text) is None
    assert not answers.verify(numbers, target, "4-7=-3, 3*-3=-9")
    broken = {text.replace("4-7=-3", "4-7=-2"): "arithmetic error: step 1",
              text.replace("4-7=-3", "5-7=-2"): "operand not available: step 1",  # does not use the goal 4
              text.replace("-3/3=-1", "-3/6=-1"): "inexact division: step 2",
              text.replace("[6 51 58]", "[3 51 58]"): "wrong state: step 2",
              text.replace("58-51=7 []", "58-51=8 []"): "wrong final value: step 4",
              text.rsplit(", ", 1)[0]: "wrong final value: step 3"}  # one step short: read as the innermost step
    for wrong, reason in broken.items():
        assert answers._backward(numbers, target, wrong.split(", "), unwind=True).startswith(reason)
        assert answers.check(numbers, target, wrong).startswith("operand not available: step 1")  # first-to-last
    # diagnose() names a wrong answer by the reading its gold follows (evaluate's reasons, mining's types)
    wrong = text.replace("4-7=-3", "4-7=-2")
    assert answers.diagnose(numbers, target, wrong, text).startswith("arithmetic error: step 1")
    assert answers.diagnose(numbers, target, wrong, PAPER[2]) == answers.check(numbers, target, wrong)
    goal = "-3+7=4 [3 6 51 58], 3*-1=-3 [6 51 58], 6-7=-1 [51 58], 58-51=7 []"
    assert answers.diagnose(numbers, target, goal.replace("6-7=-1", "6-8=-1"), goal).startswith("arithmetic error: step 3")
    assert answers.diagnose(numbers, target, text, PAPER[2]) is None and answers.diagnose(numbers, target, "", text) == "empty"
    # `goal * 0 = 0` would stand for `0 / 0 = goal`: a given 0 is never the integer an outer step uses
    assert answers.check([0, 1, 1], 5, "5*0=0 [1 1], 1-1=0 []") is not None


def test_index_hints_letter_the_given_integers_and_the_verifier_reads_past_them():
    item = puzzles.record("in_domain", 0, [1, 9, 12, 15, 18], 7,
                          "9-7=2 [1 12 15 18], 2/1=2 [12 15 18], 2*15=30 [12 18], 12+18=30 []")
    hinted = puzzles.hint(item, 26, random.Random(0))
    tags = hinted["hints"]
    assert len(tags) == 5 and list(tags) == sorted(set(tags))  # five distinct letters, rising with the values
    a, b, c, d, e = tags
    assert hinted["prompt"] == f"Make 7 from {a}1, {b}9, {c}12, {d}15, {e}18."
    assert hinted["completion"] == (f"{b}9-7=2 [{a}1 {c}12 {d}15 {e}18], 2/{a}1=2 [{c}12 {d}15 {e}18], "
                                    f"2*{d}15=30 [{c}12 {e}18], {c}12+{e}18=30 []")
    assert answers.verify(item["numbers"], 7, hinted["completion"])
    assert answers.check(item["numbers"], 7, hinted["completion"].replace(f"[{c}12 {e}18]", f"[{c}12 {d}15]"))
    assert answers.steps("q x: 12+18=30 [], l: 9-7=2 [h1 q12]") == [("12", "+", "18", "30", ""),
                                                                   ("9", "-", "7", "2", "1 12")]
    # the last step's letters follow its operands' order; a non-unwind gold comes back unchanged
    last = puzzles.hint(puzzles.record("x", 0, [3, 5], 2, "5-3=2 []"), 2, random.Random(0))
    assert last["completion"] == "b5-a3=2 []" and last["prompt"] == "Make 2 from a3, b5."
    state = puzzles.record("x", 0, [3, 5, 6], 4, "5-3=2 [2 6], 6-2=4 [4]")
    assert puzzles.hint(state, 26, random.Random(0)) == state


def test_hinted_splits_are_the_same_puzzles_and_verify(tmp_path):
    small = dict(trace="unwind", train_size=600, test_size=30)
    puzzles.synthesize(_cfg(**small), tmp_path / "plain")
    puzzles.synthesize(_cfg(**small, hints=26), tmp_path / "hinted")
    assert json.loads((tmp_path / "hinted/spec.json").read_text())["hints"] == 26
    assert "hints" not in json.loads((tmp_path / "plain/spec.json").read_text())
    for name in ("train", "in_domain", "ood_range", "ood_components"):
        plain, hinted = (io.read_jsonl(tmp_path / k / f"{name}.jsonl") for k in ("plain", "hinted"))
        assert [(r["numbers"], r["target"]) for r in plain] == [(r["numbers"], r["target"]) for r in hinted]
        assert all(answers.verify(r["numbers"], r["target"], r["completion"]) for r in hinted)
        assert not any("hints" in r for r in plain)
        assert sum("hints" in r for r in hinted) > 0.95 * len(hinted)  # the rest: the state-trace fallback


def test_steps_reads_parts_as_the_verifier_does():
    # the probes count steps and the first list with this reading: a malformed part is a part, not a step
    assert answers.steps(" 4-7=-3 [3 6 51 58], -3/3=-1, 6 − -1 = 7.") == [
        ("4", "-", "7", "-3", "3 6 51 58"), ("-3", "/", "3", "-1", None), ("6", "-", "-1", "7", None)]
    assert answers.steps("8-2=6 [6 6 8], oops; 2+2=4 []") == [("8", "-", "2", "6", "6 6 8"), None, ("2", "+", "2", "4", "")]
    assert answers.steps("") == [] and answers.steps(",,") == []


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 10**9), n=st.integers(2, 5), bound=st.integers(60, 500))
def test_unwind_traces_are_the_goal_chain_written_as_forward_computations(seed, n, bound):
    split = puzzles.Split("t", 1, n, n, 1, 20)
    numbers, target, solution = puzzles.generate(random.Random(seed), split, "+-*/", bound, "unwind")
    goal = puzzles.generate(random.Random(seed), split, "+-*/", bound, "goal")
    assert (numbers, target) == goal[:2]
    assert answers.verify(numbers, target, solution)
    steps, goal_steps = solution.split(", "), goal[2].split(", ")
    assert [s.split(" [")[1] for s in steps] == [s.split(" [")[1] for s in goal_steps]  # same lists, same chain
    if solution.endswith("[]"):
        assert steps[-1] == goal_steps[-1]  # the innermost step is written as it is
        goals = [target] + [int(s.split(" [")[0].split("=")[1]) for s in steps[:-1]]
        for k, s in enumerate(steps[:-1]):  # each outer step uses the current goal and yields the next one
            left = re.fullmatch(r"(-?\d+)([-+*/])(-?\d+)", s.split("=")[0])
            assert goals[k] in (int(left[1]), int(left[3]))
        assert steps[-1].split(" [")[0].endswith(f"={goals[-1]}")


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("0123456789-+*/=,;[] \n.x\u0661\u2212\u00d7")), max_size=60)
       | st.text(max_size=60))
def test_check_returns_a_reason_for_any_string(text):
    reason = answers.check([1, 2, 3], 6, text)
    assert reason is None or reason.startswith(answers.REASONS)


def _cfg(**kw):
    base = dict(seed=3, ops="+-*/", train_size=3000, train_n_from=3, train_n_min=3, train_n_max=4, value_min=1,
                value_max=20, bound=100, trace="state", hints=0, test_size=50, ood_value_max=60, ood_n=5, prime=0, workers=1)
    return types.SimpleNamespace(**{**base, **kw})


def test_same_seed_same_bytes_with_one_and_two_workers(tmp_path):
    puzzles.synthesize(_cfg(workers=1), tmp_path / "a")
    puzzles.synthesize(_cfg(workers=2), tmp_path / "b")
    for name in ("train", "in_domain", "ood_range", "ood_components"):
        assert (tmp_path / "a" / f"{name}.jsonl").read_bytes() == (tmp_path / "b" / f"{name}.jsonl").read_bytes()


def test_splits_are_disjoint_unique_and_have_their_ranges(tmp_path):
    metrics = puzzles.synthesize(_cfg(), tmp_path)
    keys = {}
    for name in ("train", "in_domain", "ood_range", "ood_components"):
        rows = io.read_jsonl(tmp_path / f"{name}.jsonl")
        keys[name] = [(tuple(r["numbers"]), r["target"]) for r in rows]
        assert len(rows) == metrics[f"{name}/count"]
        if name != "train":  # test puzzles are unique; train keeps repeats, as fresh sampling does
            assert len(set(keys[name])) == len(rows)
        assert all(answers.verify(r["numbers"], r["target"], r["completion"]) for r in rows)
        # the bound holds on every split: every intermediate result and the target
        assert all(abs(int(step.split("=")[1].split(" [")[0])) <= 100 and abs(r["target"]) <= 100
                   for r in rows for step in r["completion"].split(", "))
    for a in keys:
        for b in keys:
            if a < b:
                assert not set(keys[a]) & set(keys[b]), (a, b)
    assert all(21 <= v <= 60 for k in keys["ood_range"] for v in k[0])
    assert all(len(k[0]) == 5 for k in keys["ood_components"])
    assert all(3 <= len(k[0]) <= 4 and max(k[0]) <= 20 for k in keys["train"] + keys["in_domain"])


def test_a_wider_train_span_of_n_leaves_in_domain_alone(tmp_path):
    puzzles.synthesize(_cfg(train_n_from=2), tmp_path)
    train = [len(r["numbers"]) for r in io.read_jsonl(tmp_path / "train.jsonl")]
    assert set(train) == {2, 3, 4} and min(train.count(n) for n in (2, 3, 4)) > 800  # N uniform, not skewed
    assert {len(r["numbers"]) for r in io.read_jsonl(tmp_path / "in_domain.jsonl")} == {3, 4}


def test_the_test_sets_do_not_depend_on_the_train_size(tmp_path):
    puzzles.synthesize(_cfg(train_size=500), tmp_path / "small")
    puzzles.synthesize(_cfg(train_size=3000), tmp_path / "large")
    for name in ("in_domain", "ood_range", "ood_components"):
        assert (tmp_path / "small" / f"{name}.jsonl").read_bytes() == (tmp_path / "large" / f"{name}.jsonl").read_bytes()
    small = (tmp_path / "small/train.jsonl").read_text().splitlines()
    assert (tmp_path / "large/train.jsonl").read_text().splitlines()[:500] == small  # train grows as a prefix


def test_priming_appends_ood_kinds_to_train_and_leaves_the_rest_alone(tmp_path):
    puzzles.synthesize(_cfg(), tmp_path / "plain")
    metrics = puzzles.synthesize(_cfg(prime=40), tmp_path / "primed")
    for name in ("in_domain", "ood_range", "ood_components"):
        assert (tmp_path / "plain" / f"{name}.jsonl").read_bytes() == (tmp_path / "primed" / f"{name}.jsonl").read_bytes()
    plain = (tmp_path / "plain/train.jsonl").read_text().splitlines()
    primed = io.read_jsonl(tmp_path / "primed/train.jsonl")
    assert (tmp_path / "primed/train.jsonl").read_text().splitlines()[:3000] == plain
    extra = primed[3000:]
    assert len(extra) == 80 and metrics["prime_range/count"] == 40
    rng = [r for r in extra if r["id"].startswith("puzzles/prime_range/")]
    comp = [r for r in extra if r["id"].startswith("puzzles/prime_components/")]
    assert len(rng) == len(comp) == 40
    assert all(len(r["numbers"]) in (3, 4) and min(r["numbers"]) >= 21 for r in rng)
    assert all(len(r["numbers"]) == 5 and max(r["numbers"]) <= 20 for r in comp)
    keys = lambda rows: {(tuple(r["numbers"]), r["target"]) for r in rows}
    tests = set().union(*(keys(io.read_jsonl(tmp_path / "primed" / f"{n}.jsonl")) for n in ("ood_range", "ood_components")))
    assert not keys(extra) & tests and all(answers.verify(r["numbers"], r["target"], r["completion"]) for r in extra)


def test_bad_params_are_named(tmp_path):
    with pytest.raises(ValueError, match="puzzles.ops"):
        puzzles.synthesize(_cfg(ops="+^"), tmp_path)
    with pytest.raises(ValueError, match="puzzles.ood_n"):
        puzzles.synthesize(_cfg(ood_n=4), tmp_path)
    with pytest.raises(ValueError, match="puzzles.trace"):
        puzzles.synthesize(_cfg(trace="tree"), tmp_path)
    with pytest.raises(ValueError, match="puzzles.bound"):
        puzzles.synthesize(_cfg(bound=50), tmp_path)
    with pytest.raises(ValueError, match="puzzles.hints"):
        puzzles.synthesize(_cfg(hints=26), tmp_path)  # state trace
    with pytest.raises(ValueError, match="puzzles.prime"):
        puzzles.synthesize(_cfg(prime=-1), tmp_path)
