"""figures.py picks each sweep's runs from `dvc exp show` rows (literal rows, no DVC needed)."""
import json
import types

from mathtune import figures, tables


def _row(name, **params):
    base = {"puzzles.train_size": 100000, "sft.mix.irsp": 1.0, "sft.mix.ir": 1.0, "mining.per_type": 512}
    return {"name": name, "rev": "", "params": {**base, **params}, "metrics": {}}


def test_a_sweep_keeps_only_runs_that_differ_in_its_own_params():
    rows = [_row("workspace"), _row("train-10k", **{"puzzles.train_size": 10000}),
            _row("dual-none", **{"sft.mix.irsp": 0, "sft.mix.ir": 0}),
            _row("mixed", **{"puzzles.train_size": 30000, "sft.mix.ir": 0})]
    assert [r["name"] for r in tables.varying(rows, "puzzles.train_size")] == ["workspace", "train-10k"]
    assert [r["name"] for r in tables.varying(rows, "sft.mix.irsp", "sft.mix.ir")] == ["workspace", "dual-none"]
    assert [r["name"] for r in tables.varying(rows, "mining.per_type")] == ["workspace"]
    assert tables.dual_arm(rows[2]["params"]) == "SFT alone" and tables.dual_arm(rows[0]["params"]) == "+both"


def test_a_sweep_on_an_earlier_default_stays_one_sweep_after_the_default_moves_on():
    old = {"puzzles.trace": "steps"}
    rows = [_row("workspace", **{"puzzles.trace": "state", "puzzles.prime": 0}),
            _row("10k", **old, **{"puzzles.train_size": 10000}), _row("30k", **old, **{"puzzles.train_size": 30000}),
            _row("primed", **old, **{"puzzles.prime": 2000}),
            _row("commit 850c619", **old, **{"puzzles.prime": 0}),  # the old default, once the new param existed
            _row("commit e0f4b95", **old)]  # the old default before it: no such param, i.e. off
    assert [r["name"] for r in tables.varying(rows, "puzzles.train_size")] == ["10k", "30k", "commit 850c619",
                                                                               "commit e0f4b95"]
    assert [r["name"] for r in tables.varying(rows, "puzzles.prime")] == ["primed", "commit 850c619", "commit e0f4b95"]
    assert [r["name"] for r in tables.varying(rows, "puzzles.trace")] == ["workspace", "commit 850c619", "commit e0f4b95"]


def test_a_cell_prints_the_interval_of_the_counted_items_not_the_rounded_stored_bounds():
    key = "evaluate.dpo/puzzles/in_domain/pass@1"
    row = {"metrics": {key: 0.092, "evaluate.dpo/puzzles/in_domain/n": 500,
                       f"{key}_ci95_low": 0.0697, f"{key}_ci95_high": 0.1205}}  # 46 of 500, bounds as stored
    assert tables._cell(row, "dpo", "in_domain") == "0.092 [0.070, 0.121]"  # as the paired table prints it
    del row["metrics"]["evaluate.dpo/puzzles/in_domain/n"]  # no count: the stored bounds
    assert tables._cell(row, "dpo", "in_domain") == "0.092 [0.070, 0.120]"
    assert tables._cell({"metrics": {}}, "dpo", "in_domain") == "—"


def _preds(correct: str) -> list[dict]:
    """Literal per-item predictions: '1' right, '0' wrong, items in one order."""
    return [{"id": f"puzzles/in_domain/{i}", "correct": c == "1"} for i, c in enumerate(correct)]


def test_seed_replicates_give_mean_sd_range_and_a_pooled_sign_test(monkeypatch):
    def run(name, seed, sft, dpo):
        r = _row(name, **{"sft.seed": seed, "dpo.seed": seed})
        r.update(commit=name, metrics={"evaluate.sft/puzzles/in_domain/pass@1": sft,
                                       "evaluate.dpo/puzzles/in_domain/pass@1": dpo})
        return r
    rows = [run("workspace", 0, 0.2, 0.4), run("s1", 1, 0.4, 0.4), run("other", 0, 0.5, 0.5),
            run("rerun", 0, 0.9, 0.9)]  # the workspace's seeds again: adds nothing
    rows[1]["params"]["mining.heldout_per_type"] = 100  # a smaller mined_types set: still a replicate
    rows[0]["params"]["mining.match_hardness"] = True  # mining's synthesis changed after s1 ran: named, kept
    rows[0]["params"]["dpo.rounds"] = 2  # so did DPO's rounds (s1 has the workspace's, s1-old not)
    rows[2]["params"]["sft.mix.ir"] = 0  # not a seed replicate: left out
    rows[1]["params"]["dpo.rounds"] = 2
    rows.insert(1, run("s1-old", 1, 0.9, 0.9))  # s1's seeds again, earlier, with the older DPO too: s1 is kept
    rows[1]["params"]["dpo.rounds"] = 1
    for seed in (3, 4, 5):  # a larger sweep of an older default: not the workspace's, left out
        rows.append(run(f"old{seed}", seed, 0.5, 0.5))
        rows[-1]["params"]["sft.mix.irsp"] = 0
    preds = {("workspace", "sft", "in_domain"): "11000", ("workspace", "dpo", "in_domain"): "01110",  # 1 / 2
             ("s1", "sft", "in_domain"): "11110", ("s1", "dpo", "in_domain"): "01111",                # 1 / 1
             ("workspace", "sft", "mined_types"): "000", ("workspace", "mining", "mined_types"): "011",  # 0 / 2
             ("s1", "sft", "mined_types"): "0001", ("s1", "mining", "mined_types"): "1111"}  # each run's own items
    monkeypatch.setattr(tables, "predictions",
                        lambda m, t, rev=None: _preds(preds[rev, m, t]) if (rev, m, t) in preds else None)
    text = tables.seed_table(rows, sets=("in_domain",))
    assert "| sft | in_domain | 0.200 | 0.400 | 0.300 | 0.141 | 0.200–0.400 |" in text  # sd = 0.2 / sqrt(2)
    assert "| dpo | in_domain | 0.400 | 0.400 | 0.400 | 0.000 | 0.400–0.400 |" in text
    assert "other" not in text and "rerun" not in text and "old" not in text
    assert "sft → dpo in_domain over 2 runs: 2 items only sft right, 3 only dpo, sign test p = 1;" in text
    assert "sft → mining mined_types over 2 runs: 0 items only sft right, 5 only mining, sign test p = 0.0625." in text
    assert "sft → mining in_domain" not in text  # no run has those predictions: no line
    assert "sft.seed=1 (later stages differ: mining.match_hardness=absent)" in text and "s1-old" not in text
    assert "sft.seed=0 (later" not in text
    monkeypatch.setattr(tables, "predictions", lambda m, t, rev=None: None)  # no per-item results: no pooled test
    assert "Pooled" not in tables.seed_table(rows, sets=("in_domain",))
    assert tables.seed_table(rows[:1]) == ""  # one run: no replicate table


def test_an_experiment_is_paired_with_the_commit_it_started_from(monkeypatch):
    row = {"name": "dual-none", "commit": "exp1", "baseline": "abc1234def", "params": {}, "metrics": {}}
    preds = {("abc1234def", "sft"): "1111100000", ("exp1", "sft"): "1000000000",
             ("abc1234def", "dpo"): "1111100000", ("exp1", "dpo"): "1100000000"}
    monkeypatch.setattr(tables, "predictions",
                        lambda m, t, rev=None: _preds(preds[rev, m]) if t == "in_domain" and (rev, m) in preds else None)
    lines = tables.experiment_pairs([{"name": "workspace", "params": {}, "metrics": {}}, row]).splitlines()
    # 4 items only the baseline right, none only the run: exact McNemar p = 2 / 2**4 = 0.125
    assert "| dual-none: sft at abc1234 → sft of the run | in_domain | 10 | 0.500 [0.237, 0.763] | " \
           "0.100 [0.018, 0.404] | 4 | 0 | 0.125 |" in lines
    assert any(line.startswith("| dual-none: sft → dpo | in_domain | 10 |") and "| 0 | 1 | 1 |" in line for line in lines)
    assert len(lines) == 2 + 3  # header + sft, dpo, sft → dpo; gsm8k has no predictions: no rows


def test_the_dpo_figure_adds_each_rounds_experiment_after_the_workspace(tmp_path, monkeypatch):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # io.root() = tmp_path: the figure is written there
    monkeypatch.chdir(tmp_path)
    m = {f"evaluate.{k}/puzzles/in_domain/pass@1": v for k, v in (("base", 0.0), ("sft", 0.1), ("dpo", 0.12))}
    rows = [{**_row("workspace", **{"dpo.rounds": 1}), "metrics": m},
            {**_row("rounds-2", **{"dpo.rounds": 2}), "metrics": {**m, "evaluate.dpo/puzzles/in_domain/pass@1": 0.15}},
            {**_row("seed1", **{"dpo.rounds": 1, "sft.seed": 1}), "metrics": m}]
    figures.dpo_stages(rows)
    csv = (tmp_path / "reports/figures/paper/dpo_stages.csv").read_text().splitlines()
    assert [line.split(",")[:3] for line in csv[1:]] == [["base", "in_domain", "0.0"], ["sft", "in_domain", "0.1"],
                                                        ["dpo (1 round)", "in_domain", "0.12"],
                                                        ["dpo (2 rounds)", "in_domain", "0.15"]]


def test_an_experiment_record_pairs_it_again_in_a_clone_without_its_dvc_cache(tmp_path, monkeypatch):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # io.root() = tmp_path: records are written there
    monkeypatch.chdir(tmp_path)
    cache = {("exp1", "sft"): "1000000000", ("abc1234def", "sft"): "1111100000"}

    def read_at(repo, path, rev):  # the DVC cache of the machine that ran the experiment
        model, test_set = path.split("/")[2], path.split("/")[3].removesuffix(".jsonl")
        bits = cache.get((rev, model)) if test_set == "in_domain" else None
        return None if bits is None else "\n".join(
            '{"id": "puzzles/in_domain/%d", "correct": %s}' % (i, "true" if b == "1" else "false")
            for i, b in enumerate(bits))
    monkeypatch.setattr(tables, "_read_at", read_at)
    row = {"name": "dual-none", "rev": "exp1", "commit": "exp1", "baseline": "abc1234def", "params": {}, "metrics": {}}
    tables.record(row)
    fresh = tables.experiment_pairs([row])
    monkeypatch.setattr(tables, "_read_at", lambda repo, path, rev: None)  # a fresh clone: no cache, no exp refs
    assert tables.io.read_json(tmp_path / "reports/experiments/dual-none.json") == row
    assert tables.predictions("sft", "in_domain", "exp1")[:2] == [{"id": "puzzles/in_domain/0", "correct": True},
                                                                  {"id": "puzzles/in_domain/1", "correct": False}]
    assert tables.predictions("dpo", "in_domain", "exp1") is None  # never recorded: no row, not a guess
    again = tables.experiment_pairs([row])
    assert again == fresh and "| 4 | 0 | 0.125 |" in again


def test_a_failed_experiment_is_not_a_result(monkeypatch):
    # a killed queue run keeps a commit whose metrics files are its baseline's: it must not become a row
    def run(name, state, score):
        data = {"metrics": {"metrics/evaluate.json": {"data": {"sft": {"puzzles": {"in_domain": {"pass@1": score}}}}}}}
        return {"name": name, "executor": {"state": state}, "revs": [{"rev": name * 4, "data": data}]}
    shown = [{"rev": "workspace", "data": run("w", "success", 0.1)["revs"][0]["data"]},
             {"rev": "abc1234", "data": {}, "experiments": [run("ok", "success", 0.3), run("killed", "failed", 0.2)]}]
    monkeypatch.setattr(tables.subprocess, "run",
                        lambda *a, **k: types.SimpleNamespace(returncode=0, stdout=json.dumps(shown)))
    monkeypatch.setattr(tables, "record", lambda row: None)
    names = [r["name"] for r in tables.experiments()]
    assert "ok" in names and "workspace" in names and "killed" not in names


def test_dual_arms_pair_with_sft_alone_and_train_sizes_with_the_next_larger(monkeypatch):
    rows = [_row("workspace"), _row("none", **{"sft.mix.irsp": 0, "sft.mix.ir": 0}),
            _row("irsp", **{"sft.mix.ir": 0}), _row("10k", **{"puzzles.train_size": 10000}),
            _row("old-none", **{"sft.mix.irsp": 0, "sft.mix.ir": 0, "sft.max_steps": 9}),  # arms on another default:
            _row("old-both", **{"sft.max_steps": 9}),
            _row("old-10k", **{"puzzles.train_size": 10000, "sft.max_steps": 9})]
    for r in rows:  # ... their own dual sweep, never paired with this default's runs
        r["commit"] = r["name"]
    bits = {"workspace": "1111000000", "none": "1000000000", "irsp": "1100000000", "10k": "0000000000",
            "old-none": "0000000000", "old-both": "0100000000", "old-10k": "1111111111"}
    monkeypatch.setattr(tables, "predictions",
                        lambda m, t, rev=None: _preds(bits[rev]) if t == "in_domain" and m == "sft" else None)
    lines = tables.sweep_pairs(rows).splitlines()
    assert lines[2:] == [
        "| dual: SFT alone (none) → +IRSP (irsp), sft | in_domain | 10 | 0.100 [0.018, 0.404] | 0.200 [0.057, 0.510] | 0 | 1 | 1 |",
        "| dual: SFT alone (none) → +both (workspace), sft | in_domain | 10 | 0.100 [0.018, 0.404] | "
        "0.400 [0.168, 0.687] | 0 | 3 | 0.25 |",
        "| dual: SFT alone (old-none) → +both (old-both), sft | in_domain | 10 | 0.000 [0.000, 0.278] | "
        "0.100 [0.018, 0.404] | 0 | 1 | 1 |",
        "| train puzzles 10,000 (10k) → 100,000 (workspace), sft | in_domain | 10 | 0.000 [0.000, 0.278] | "
        "0.400 [0.168, 0.687] | 0 | 4 | 0.125 |"]
    assert tables.sweep_pairs(rows[:1]) == ""  # no sweep: no table


def test_dual_arms_whose_later_stages_differ_pair_their_sft_models_only(monkeypatch):
    rows = [_row("workspace", **{"dpo.rounds": 2}), _row("none", **{"sft.mix.irsp": 0, "sft.mix.ir": 0, "dpo.rounds": 1}),
            _row("ir", **{"sft.mix.irsp": 0, "dpo.rounds": 1})]  # workspace: DPO of two rounds, the arms one
    for r in rows:
        r["commit"] = r["name"]
    monkeypatch.setattr(tables, "predictions", lambda m, t, rev=None: _preds("1000000000") if t == "in_domain" else None)
    labels = [line.split(" | ")[0] for line in tables.sweep_pairs(rows).splitlines()[2:]]
    assert labels == ["| dual: SFT alone (none) → +IR (ir), sft", "| dual: SFT alone (none) → +IR (ir), dpo",
                      "| dual: SFT alone (none) → +both (workspace), sft"]  # no DPO line across round counts


def test_a_dual_arm_pairs_the_run_whose_later_stages_match_sft_alone_when_it_has_one(monkeypatch):
    # the workspace moved on in mining (per_type 2048); the old default's +both run (512) is still a row
    rows = [_row("workspace", **{"mining.per_type": 2048}), _row("none", **{"sft.mix.irsp": 0, "sft.mix.ir": 0}),
            _row("old-both")]
    for r in rows:
        r["commit"] = r["name"]
    monkeypatch.setattr(tables, "predictions", lambda m, t, rev=None: _preds("1000000000") if t == "in_domain" else None)
    labels = [line.split(" | ")[0] for line in tables.sweep_pairs(rows).splitlines()[2:]]
    assert labels == ["| dual: SFT alone (none) → +both (old-both), sft", "| dual: SFT alone (none) → +both (old-both), dpo"]


def test_the_size_table_splits_a_test_set_by_its_number_of_integers(tmp_path, monkeypatch):
    monkeypatch.setattr(tables.io, "root", lambda: tmp_path)
    (tmp_path / "data/puzzles").mkdir(parents=True)
    items = [{"id": f"puzzles/in_domain/{i}", "numbers": [1, 2, 3] if i < 3 else [1, 2, 3, 4]} for i in range(5)]
    (tmp_path / "data/puzzles/in_domain.jsonl").write_text("".join(json.dumps(r) + "\n" for r in items))
    monkeypatch.setattr(tables, "predictions", lambda m, t, rev=None: _preds("11010") if m == "sft" else None)
    assert tables.size_table().splitlines() == [
        "| model | N = 3 | N = 4 |", "|---|---|---|",
        "| sft | 2/3 = 0.667 [0.208, 0.939] | 1/2 = 0.500 [0.095, 0.905] |"]
    assert tables.size_table("ood_range") == ""  # no such file: no table


def test_the_dual_figure_draws_the_workspace_arms_when_it_has_them(monkeypatch):
    old = {"puzzles.trace": "steps"}
    rows = [_row("workspace"), _row("none", **{"sft.mix.irsp": 0, "sft.mix.ir": 0}),
            _row("old", **old), _row("old-none", **old, **{"sft.mix.irsp": 0, "sft.mix.ir": 0}),
            _row("old-irsp", **old, **{"sft.mix.ir": 0})]  # the older default's sweep is the larger one
    drawn = {}
    monkeypatch.setattr(figures, "scores", lambda r, m: {"in_domain": 0.1})
    monkeypatch.setattr(figures, "interval", lambda r, m, t: (0.0, 0.2))
    monkeypatch.setattr(figures, "_figure", lambda df, name, draw, missing: drawn.update(runs=list(df["run"]),
                                                                                         missing=missing))
    figures.dual_ablation(rows)
    assert drawn["runs"] == ["workspace", "none"] and drawn["missing"] == ["dvc exp run -S sft.mix.ir=0",
                                                                          "dvc exp run -S sft.mix.irsp=0"]
    figures.dual_ablation(rows[2:])  # no workspace arms: the largest sweep
    assert drawn["runs"] == ["old", "old-none", "old-irsp"]
    rows[1]["params"]["dpo.rounds"] = 1  # an arm run before DPO's rounds changed: its SFT still is an arm
    rows[0]["params"]["dpo.rounds"] = 2
    figures.dual_ablation(rows)
    assert drawn["runs"] == ["workspace", "none"]


def test_a_run_whose_outputs_the_cache_lacks_reads_as_none(monkeypatch):
    # a new checkout has no DVC cache of older commits: dvc raises DataIndexDirError there, and the tables
    # must fall back to the git-tracked record instead of failing `make figures`
    import dvc.api
    from dvc_data.index.index import DataIndexDirError

    def missing(*a, **k):
        raise DataIndexDirError("failed to load directory ('data', 'predictions')")
    monkeypatch.setattr(dvc.api, "read", missing)
    assert tables._read_at("/nonexistent-repo-for-this-test", "data/predictions/sft/in_domain.jsonl", "0" * 40) is None


def test_the_workspace_own_sweep_not_an_older_larger_one():
    rows = [_row("workspace", **{"dpo.rounds": 1}), _row("rounds2", **{"dpo.rounds": 2}),
            _row("rerun", **{"dpo.rounds": 1}), _row("seed1", **{"dpo.rounds": 2, "sft.seed": 1})]
    for i, n in enumerate((1, 2, 3, 2)):  # an older default (no IRSP) with three runs of rounds
        rows.append(_row(f"old{i}", **{"dpo.rounds": n, "sft.mix.irsp": 0}))
    assert [r["name"] for r in tables.varying(rows, "dpo.rounds")][:1] == ["old0"]  # the largest sweep
    assert [r["name"] for r in tables.own_sweep(rows, "dpo.rounds")] == ["workspace", "rounds2"]
