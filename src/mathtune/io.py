"""Files between stages: repo-root paths, atomic writes and JSONL that names file:line on bad input.

Every stage writes through these helpers so that a stage killed half-way leaves either the old file or
the new one, never a partial file for DVC to cache.

    from mathtune import io
    io.write_jsonl(io.path("data/puzzles/train.jsonl"), records)
    rows = io.read_jsonl(io.path("data/puzzles/train.jsonl"), required=("id", "prompt"))
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable, Iterator


def root() -> Path:
    """The repository root: the nearest folder upwards from the working directory holding dvc.yaml.

    Searching from the working directory (not from this file) lets JupyterLab (cwd notebooks/),
    papermill under DVC (cwd = repo root) and a test's temporary copy of the repo all resolve to
    the copy they run in.
    """
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file():
            return folder
    raise FileNotFoundError(f"no dvc.yaml in {here} or any parent: run from inside the mathtune repo")


def path(relative: str | os.PathLike) -> Path:
    """`relative` resolved against the repo root (absolute paths pass through)."""
    p = Path(relative)
    return p if p.is_absolute() else root() / p


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `target`; on success rename it onto `target`.

    Works for files and folders (e.g. `save_pretrained`). On an exception the temporary path is
    removed and `target` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent)) / target.name
    try:
        yield tmp
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp.parent, ignore_errors=True)


def write_text(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")


def md5(source: str | os.PathLike) -> str:
    """The file's md5 (DVC's hash), read in 1 MiB blocks."""
    import hashlib
    h = hashlib.md5()
    with open(source, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_json(target: str | os.PathLike, obj) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def producer(target: str | os.PathLike) -> str | None:
    """The dvc.yaml stage whose outs contain `target` (so an error can say which stage to run)."""
    import yaml
    try:
        rel = Path(target).resolve().relative_to(root())
        stages = yaml.safe_load((root() / "dvc.yaml").read_text())["stages"]
    except (ValueError, OSError, KeyError, TypeError):
        return None
    for name, stage in stages.items():
        for out in stage.get("outs", []):
            out = Path(next(iter(out)) if isinstance(out, dict) else out)
            if rel == out or out in rel.parents:
                return name
    return None


def missing_message(target: str | os.PathLike) -> str:
    stage = producer(target)
    hint = f"run `dvc repro {stage}`" if stage else "has the stage that writes it run? try `dvc repro`"
    return f"{target}: no such file ({hint})"


def write_jsonl(target: str | os.PathLike, records: Iterable[dict]) -> int:
    """Stream records to `target` atomically; returns how many were written."""
    n = 0
    with atomic_path(target) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(source: str | os.PathLike, required: Iterable[str] = ()) -> list[dict]:
    """Read a JSONL file; a malformed line or a missing field raises ValueError naming file:line."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(missing_message(source))
    required = tuple(required)
    rows = []
    with open(source, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{source}:{lineno}: malformed JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise ValueError(f"{source}:{lineno}: expected a JSON object, got {type(row).__name__}")
            missing = [k for k in required if k not in row]
            if missing:
                raise ValueError(f"{source}:{lineno}: missing field(s) {', '.join(missing)}")
            rows.append(row)
    return rows


def read_json(source: str | os.PathLike) -> dict:
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(missing_message(source))
    return json.loads(source.read_text(encoding="utf-8"))
