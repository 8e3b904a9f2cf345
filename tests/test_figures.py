"""figures.py picks each sweep's runs from `dvc exp show` rows (literal rows, no DVC needed)."""
from mathtune import figures, tables


def _row(name, **params):
    base = {"puzzles.train_size": 100000, "sft.mix.irsp": 1.0, "sft.mix.ir": 1.0, "sft.mix.mining": 1.0}
    return {"name": name, "rev": "", "params": {**base, **params}, "metrics": {}}


def test_a_sweep_keeps_only_runs_that_differ_in_its_own_params():
    rows = [_row("workspace"), _row("train-10k", **{"puzzles.train_size": 10000}),
            _row("dual-none", **{"sft.mix.irsp": 0, "sft.mix.ir": 0}),
            _row("mixed", **{"puzzles.train_size": 30000, "sft.mix.ir": 0})]
    assert [r["name"] for r in tables.varying(rows, "puzzles.train_size")] == ["workspace", "train-10k"]
    assert [r["name"] for r in tables.varying(rows, "sft.mix.irsp", "sft.mix.ir")] == ["workspace", "dual-none"]
    assert [r["name"] for r in tables.varying(rows, "sft.mix.mining")] == ["workspace"]
    assert figures._arm(rows[2]["params"]) == "SFT alone" and figures._arm(rows[0]["params"]) == "+both"


def test_a_cell_prints_the_interval_of_the_counted_items_not_the_rounded_stored_bounds():
    key = "evaluate.dpo/puzzles/in_domain/pass@1"
    row = {"metrics": {key: 0.092, "evaluate.dpo/puzzles/in_domain/n": 500,
                       f"{key}_ci95_low": 0.0697, f"{key}_ci95_high": 0.1205}}  # 46 of 500, bounds as stored
    assert tables._cell(row, "dpo", "in_domain") == "0.092 [0.070, 0.121]"  # as the paired table prints it
    del row["metrics"]["evaluate.dpo/puzzles/in_domain/n"]  # no count: the stored bounds
    assert tables._cell(row, "dpo", "in_domain") == "0.092 [0.070, 0.120]"
    assert tables._cell({"metrics": {}}, "dpo", "in_domain") == "—"
