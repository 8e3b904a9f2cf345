"""Wilson intervals and the exact McNemar test, against values computed by hand."""
import pytest

from mathtune import stats


def test_wilson_interval_matches_the_formula_by_hand():
    # p = 0.44, z = 1.96: centre (0.44 + 0.019208) / 1.038415 = 0.442215; half 0.095480
    lo, hi = stats.wilson(44, 100)
    assert lo == pytest.approx(0.34672, abs=1e-5) and hi == pytest.approx(0.53772, abs=1e-5)
    assert stats.wilson(0, 500) == (0.0, pytest.approx(0.0076, abs=1e-4))  # 0/500 is not "exactly 0"
    with pytest.raises(ValueError, match="k=3, n=2"):
        stats.wilson(3, 2)


def test_mcnemar_exact_p_value_by_hand():
    # 9 items right only for A, 2 only for B: 2 * P(X <= 2), X ~ Bin(11, 1/2) = 2 * (1 + 11 + 55) / 2048
    assert stats.mcnemar(9, 2) == 134 / 2048
    assert stats.mcnemar(2, 9) == 134 / 2048
    assert stats.mcnemar(6, 0) == 2 / 64
    assert stats.mcnemar(0, 0) == 1.0 and stats.mcnemar(5, 5) == 1.0


def test_paired_counts_only_the_discordant_items():
    a = [True, True, True, False, False, True]
    b = [True, False, False, False, True, True]
    out = stats.paired(a, b)
    assert (out["only_a"], out["only_b"], out["n"]) == (2, 1, 6)
    assert out["p"] == stats.mcnemar(2, 1) == 1.0 and out["a"] == 4 / 6
