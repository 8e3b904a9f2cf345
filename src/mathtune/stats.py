"""Intervals and paired tests for pass@1 numbers. Pure Python.

    stats.wilson(44, 100)          # (0.3467..., 0.5377...): 95 % Wilson score interval of 44/100
    stats.mcnemar(only_a=9, only_b=2)  # exact two-sided McNemar (sign) test p-value: 0.0654...

A pass@1 of two models on the same items is compared on the items where exactly one is right
(`only_a`, `only_b`); under "no difference" each such item is a fair coin, so the p-value is the
two-sided binomial tail of min(only_a, only_b) in only_a + only_b trials at 1/2.
"""
from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n (n > 0)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"wilson: need 0 <= k <= n and n > 0, got k={k}, n={n}")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (0.0 if k == 0 else centre - half), (1.0 if k == n else centre + half)


def mcnemar(only_a: int, only_b: int) -> float:
    """Exact two-sided McNemar p-value from the discordant counts (1.0 when there are none)."""
    n, k = only_a + only_b, min(only_a, only_b)
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def paired(a: list[bool], b: list[bool]) -> dict:
    """Two models' per-item correctness on the same items: both pass@1 with intervals, and McNemar."""
    if len(a) != len(b) or not a:
        raise ValueError(f"paired: need two equal, non-empty lists, got {len(a)} and {len(b)} items")
    only_a = sum(x and not y for x, y in zip(a, b))
    only_b = sum(y and not x for x, y in zip(a, b))
    return {"a": sum(a) / len(a), "a_ci": wilson(sum(a), len(a)), "b": sum(b) / len(b), "b_ci": wilson(sum(b), len(b)),
            "only_a": only_a, "only_b": only_b, "p": mcnemar(only_a, only_b), "n": len(a)}
