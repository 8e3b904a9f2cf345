"""A replicate record (benchmarks/replicate_record.py) keeps a run's per-item results so that
benchmarks/runs_pair.py pairs it later without the run's DVC cache: literal predictions, read back."""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import replicate_record  # noqa: E402
import runs_pair  # noqa: E402

from mathtune import io, tables  # noqa: E402


def _write(folder: Path, model: str, test_set: str, bits: str) -> None:
    field = tables.result_field(test_set)
    io.write_jsonl(folder / model / f"{test_set}.jsonl",
                   [{"id": f"{test_set}/{i}", field: b == "1", "output": "x"} for i, b in enumerate(bits)])


def test_a_record_reads_back_the_per_item_results_it_was_made_from_and_pairs_as_the_folder(tmp_path):
    run = tmp_path / "predictions"
    _write(run, "sft", "in_domain", "1100101")
    _write(run, "dpo", "in_domain", "1111110")
    _write(run, "sft", "gsm8k", "010")
    ids, correct = replicate_record.bits(run)
    assert correct == {"sft": {"in_domain": "1100101", "gsm8k": "010"}, "dpo": {"in_domain": "1111110"}}
    rec = tmp_path / "rec.json"
    rec.write_text(json.dumps({"ids": ids, "correct": correct}))
    for m, t in (("sft", "in_domain"), ("dpo", "in_domain"), ("sft", "gsm8k")):
        assert runs_pair.rows(str(rec), m, t) == [{"id": r["id"], tables.result_field(t): r[tables.result_field(t)]}
                                                  for r in runs_pair.rows(str(run), m, t)]
    assert runs_pair.rows(str(rec), "dpo", "gsm8k") is None and runs_pair.rows(str(run), "dpo", "gsm8k") is None
    # sft -> dpo: only sft right on item 6, only dpo right on 2, 3 and 5: exact McNemar p = 2 x 4/16 = 0.625
    line = tables.pair_line("sft → dpo", "in_domain", runs_pair.rows(str(rec), "sft", "in_domain"),
                             runs_pair.rows(str(rec), "dpo", "in_domain"))
    assert "| 7 | 0.571 [" in line and line.endswith("| 1 | 3 | 0.625 |")


def test_a_record_refuses_models_that_scored_other_items_and_an_empty_folder(tmp_path):
    run = tmp_path / "predictions"
    _write(run, "sft", "in_domain", "101")
    _write(run, "dpo", "in_domain", "1011")
    with pytest.raises(ValueError, match="dpo scored other in_domain items"):
        replicate_record.bits(run)
    with pytest.raises(FileNotFoundError, match="no <model>/<set>.jsonl"):
        replicate_record.bits(tmp_path / "empty")
