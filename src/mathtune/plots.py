"""What notebooks draw and record: seaborn figures under reports/figures/ and the metrics/plots files.

`save_metrics(stage, seed, scalars)` writes metrics/<stage>.json (flat numbers for `dvc metrics show`,
plus the environment under `env`); `save_curve(stage, name, rows)` writes plots/<stage>/<name>.csv
for `dvc plots show`. Figures are PNGs so executed notebooks and the README can show them.
"""
from __future__ import annotations

import csv
import io as _io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from mathtune import io, models  # noqa: E402

sns.set_theme(style="whitegrid", context="notebook")
_TOKEN = re.compile(r"\d|[^\d\s]+")  # digits one token each, as the embedded tokenizer splits them


def save_metrics(stage: str, seed: int, scalars: dict) -> dict:
    flat = {k: v for k, v in scalars.items() if isinstance(v, (int, float, str, bool)) or v is None}
    io.write_json(io.path(f"metrics/{stage}.json"), {**flat, "env": models.environment(seed)})
    return flat


def save_curve(stage: str, name: str, rows: list[dict]) -> Path:
    target = io.path(f"plots/{stage}/{name}.csv")
    buf = _io.StringIO()
    fields = list(rows[0]) if rows else ["step", "loss"]
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    io.write_text(target, buf.getvalue())
    return target


def _save(fig, name: str) -> Path:
    target = io.path(f"reports/figures/{name}")
    with io.atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight", format="png")
    plt.close(fig)
    return target


def tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def puzzle_distributions(data: dict[str, list[dict]]) -> list[Path]:
    """The paper's dn/dx (N and integer values) and DPL/DTL (prompt and solution lengths) per split."""
    rows = [{"split": s, "N": len(it["numbers"]), "prompt tokens": tokens(it["prompt"]),
             "solution tokens": tokens(it["completion"])} for s, items in data.items() for it in items]
    values = [{"split": s, "value": v} for s, items in data.items() for it in items for v in it["numbers"]]
    df, dv = pd.DataFrame(rows), pd.DataFrame(values)
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
    dn = df.groupby("split")["N"].value_counts(normalize=True).rename("proportion").reset_index()
    sns.barplot(dn, x="N", y="proportion", hue="split", ax=ax[0]).set_title("dn: number of integers N (per split)")
    sns.histplot(dv, x="value", hue="split", ax=ax[1], stat="density", common_norm=False, element="step",
                 discrete=True).set_title("dx: integer values")
    out = [_save(fig, "puzzles/distributions_n_x.png")]
    fig, ax = plt.subplots(1, 2, figsize=(11, 3.5))
    for a, col, title in ((ax[0], "prompt tokens", "DPL: prompt length"),
                          (ax[1], "solution tokens", "DTL: solution length")):
        sns.histplot(df, x=col, hue="split", ax=a, stat="density", common_norm=False, element="step",
                     discrete=True).set_title(title)
    out.append(_save(fig, "puzzles/distributions_lengths.png"))
    return out


def loss_curve(rows: list[dict], title: str, name: str, y: str = "loss") -> Path:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    df = pd.DataFrame(rows)
    if df.empty or y not in df:  # e.g. a DPO round with no pairs trained nothing
        ax.text(0.5, 0.5, "nothing trained", ha="center", transform=ax.transAxes)
        ax.set_title(title)
        return _save(fig, name)
    sns.lineplot(df, x="step", y=y, hue="round" if "round" in df else None, ax=ax).set_title(title)
    return _save(fig, name)


def lengths(records: list[dict], name: str) -> Path:
    df = pd.DataFrame([{"task": r["task"], "source": r["source"], "prompt tokens": tokens(r["prompt"])}
                       for r in records])
    fig, ax = plt.subplots(figsize=(7, 3.5))
    sns.histplot(df, x="prompt tokens", hue=df["task"] + "/" + df["source"], element="step", stat="density",
                 common_norm=False, ax=ax).set_title("dual instances: prompt length")
    return _save(fig, name)


def type_sizes(types: list[dict], name: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * max(1, len(types))))
    df = pd.DataFrame(types) if types else pd.DataFrame({"name": [], "size": []})
    sns.barplot(df, y="name", x="size", hue="round" if "round" in df else None, ax=ax, orient="h",
                palette="deep" if "round" in df else None).set_title("error types: bad cases per type and round")
    return _save(fig, name)


def scores(metrics: dict, name: str) -> tuple[Path, pd.DataFrame]:
    """Model x test set figure from evaluate's flat metrics."""
    rows = []
    for k, v in metrics.items():
        parts = k.split("/")
        if parts[-1] in ("strict", "flexible") and parts[1] == "gsm8k":
            rows.append({"model": parts[0], "test set": f"gsm8k ({parts[-1]})", "score": v})
        elif parts[-1] == "pass@1":
            rows.append({"model": parts[0], "test set": f"puzzles/{parts[2]}", "score": v})
    df = pd.DataFrame(rows)
    fig, ax = plt.subplots(figsize=(9, 3.8))
    sns.barplot(df, x="test set", y="score", hue="model", ax=ax).set_title("accuracy / pass@1 by model and test set")
    ax.set_ylim(0, max(0.05, df["score"].max() * 1.15) if len(df) else 1)
    ax.tick_params(axis="x", rotation=15)
    return _save(fig, name), df
