"""mathtune: a cached DVC + papermill pipeline that makes a language model better at math.

Stages (each a module here and a notebook in notebooks/): puzzles, dual, base, mining, sft, dpo,
evaluate. See README.md for how to run them.
"""
__version__ = "0.1.0"
