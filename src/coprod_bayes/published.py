"""The published figures of the built-in waves (package data), which the simulator matches."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

__all__ = ["published_figures", "published_betas"]


@cache
def published_figures(name: str = "eu5_2008") -> dict[str, Any]:
    """The published figures of wave ``name`` as a nested dict (see the YAML's comments)."""
    res = resources.files("coprod_bayes") / "published" / f"{name}.yaml"
    return yaml.safe_load(res.read_text(encoding="utf-8"))


def published_betas(table: str, name: str = "eu5_2008") -> pd.DataFrame:
    """Tables 2-3 as a tidy frame: ``country``, ``predictor``, ``beta``, ``stars``, ``n``, ``r2``.

    Examples
    --------
    >>> t = published_betas("table2_individual")
    >>> float(t.query("country == 'GB' and predictor == 'efficacy'").beta.iloc[0])
    0.25
    """
    fig = published_figures(name)[table]
    rows = []
    for predictor, cells in fig["beta"].items():
        for country, cell in cells.items():
            m = re.fullmatch(r"\s*(-?[0-9.]+)(\**)\s*", str(cell))
            rows.append({"country": country, "predictor": predictor, "beta": float(m.group(1)),
                         "stars": m.group(2), "n": fig["n"][country],
                         "r2": fig["r_squared"][country]})
    return pd.DataFrame(rows)
