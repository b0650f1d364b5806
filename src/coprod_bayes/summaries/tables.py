"""The papers' layout of a posterior-versus-OLS comparison; Markdown and LaTeX renderings."""

from __future__ import annotations

import pandas as pd

__all__ = ["compare_layout", "to_markdown", "to_latex"]


def _num(v: float, digits: int) -> str:
    return f"{round(v, digits) + 0.0:.{digits}f}"


def compare_layout(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """A tidy comparison (:meth:`Fit.compare`) in the papers' layout.

    Rows are predictors (then ``R2``); columns are (group, ``OLS``) and (group, ``Bayes``):
    OLS cells as the papers print them (``0.192***``), posterior cells as mean and interval
    (``0.222 [0.170, 0.277]``), with ``!`` after a cell whose flag is set. The verdict's
    headline is kept in ``.attrs["verdict"]``.

    Examples
    --------
    >>> t = pd.DataFrame({"group": ["CZ"], "predictor": ["age"], "ols_beta": [0.137],
    ...                   "ols_stars": ["***"], "post_mean": [0.12], "lower": [0.07],
    ...                   "upper": [0.18], "flag": [""]})
    >>> compare_layout(t).loc["age", ("CZ", "Bayes")]
    '0.120 [0.070, 0.180]'
    """
    rows = []
    for _, r in table.iterrows():
        stars = r.get("ols_stars")
        ols = "" if pd.isna(r["ols_beta"]) else _num(r["ols_beta"], digits) + (
            stars if isinstance(stars, str) else "")
        flag = r.get("flag")
        bayes = (f"{_num(r['post_mean'], digits)} [{_num(r['lower'], digits)}, "
                 f"{_num(r['upper'], digits)}]" + ("!" if isinstance(flag, str) and flag else ""))
        rows.append({"predictor": r["predictor"], "group": r["group"], "OLS": ols, "Bayes": bayes})
    long = pd.DataFrame(rows)
    wide = long.pivot(index="predictor", columns="group", values=["OLS", "Bayes"])
    wide = wide.swaplevel(0, 1, axis=1)
    groups = list(dict.fromkeys(table["group"]))
    wide = wide.reindex(columns=pd.MultiIndex.from_product([groups, ["OLS", "Bayes"]]))
    wide = wide.loc[list(dict.fromkeys(table["predictor"]))]
    wide.index.name = None
    wide.attrs["verdict"] = table.attrs.get("verdict", "")
    return wide


def _flat(wide: pd.DataFrame) -> pd.DataFrame:
    out = wide.copy()
    out.columns = [f"{g} {s}" for g, s in out.columns]
    return out


def to_markdown(wide: pd.DataFrame) -> str:
    """Markdown table with the verdict's headline as its first line."""
    head = wide.attrs.get("verdict", "")
    return (f"{head}\n\n" if head else "") + _flat(wide).to_markdown()


def to_latex(wide: pd.DataFrame) -> str:
    """LaTeX tabular with the verdict's headline as a comment on its first line."""
    head = wide.attrs.get("verdict", "")
    body = wide.to_latex(multicolumn=True, multicolumn_format="c")
    return (f"% {head}\n" if head else "") + body
