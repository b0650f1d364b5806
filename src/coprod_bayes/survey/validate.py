"""Validation of a survey frame against its codebook.

Every problem found is reported at once, each naming the column, the first offending rows
(by position and respondent id) and their values, with a hint on how to fix it. Missing-value
codes become missing (NaN) and their reasons are kept in a parallel frame; no row is dropped
and no valid code is changed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SurveyDataError
from .codebook import Codebook

__all__ = ["validate_frame"]

_SHOW = 5  # offending rows shown per problem


def _where(df: pd.DataFrame, mask: np.ndarray, id_col: str, values: pd.Series | None = None) -> str:
    pos = np.flatnonzero(mask)
    shown = pos[:_SHOW]
    more = f" (and {len(pos) - len(shown)} more)" if len(pos) > len(shown) else ""
    rows = ", ".join(str(p) for p in shown)
    text = f"{len(pos)} row(s): rows {rows}{more}"
    if id_col in df.columns:
        ids = ", ".join(repr(v) for v in df[id_col].iloc[shown].tolist())
        text += f" ({id_col} {ids})"
    if values is not None:
        vals = ", ".join(repr(v) for v in values.iloc[shown].tolist())
        text += f" have {vals}"
    return text


def _to_numeric(df: pd.DataFrame, col: str, problems: list[str], id_col: str) -> pd.Series:
    s = df[col]
    if pd.api.types.is_bool_dtype(s):
        s = s.astype("float64")
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna().to_numpy() & s.notna().to_numpy()
    if bad.any():
        problems.append(
            f"column {col!r}: non-numeric value(s) in {_where(df, bad, id_col, s)}. "
            "Fix: recode them to the codebook's numeric codes."
        )
    return num.astype("float64")


def _apply_missing(
    num: pd.Series, missing: dict[int, str], reasons: dict[str, pd.Series], col: str
) -> pd.Series:
    if not missing:
        return num
    is_code = num.isin(list(missing))
    if is_code.any():
        reason = pd.Series(pd.NA, index=num.index, dtype="string")
        reason[is_code] = num[is_code].map(lambda v: missing[int(v)]).astype("string")
        reasons[col] = reason
        num = num.mask(is_code)
    return num


def validate_frame(df: pd.DataFrame, codebook: Codebook) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Check a raw survey frame against a codebook.

    Parameters
    ----------
    df : DataFrame
        One row per respondent, raw codes (missing-value codes still as numbers).
    codebook : Codebook

    Returns
    -------
    frame : DataFrame
        The same rows in the same order, with missing-value codes set to NaN, item and
        demographic columns as float64 and group columns as strings. Columns the codebook does
        not name are kept unchanged.
    missing_reasons : DataFrame
        Same index; for each column that had missing-value codes, the reason per row
        (``dont_know``, ``refused`` ...), ``<NA>`` elsewhere.

    Raises
    ------
    SurveyDataError
        Listing every problem: a missing column, a non-numeric or out-of-range code, a
        duplicate or missing respondent id, an unknown group level, a group level with no
        respondents, a negative, missing or non-numeric weight, a treatment other than 0/1.
    """
    problems: list[str] = []
    idc = codebook.id
    absent = [c for c in codebook.columns if c not in df.columns]
    if absent:
        raise SurveyDataError(
            f"column(s) {absent} named by codebook {codebook.name!r} are missing from the data "
            f"({len(df.columns)} columns present). Fix: rename the data's columns or edit the "
            "codebook."
        )
    out = df.copy()
    reasons: dict[str, pd.Series] = {}

    ids = df[idc]
    if ids.isna().any():
        problems.append(
            f"column {idc!r}: missing respondent id in {_where(df, ids.isna().to_numpy(), idc)}. "
            "Fix: every respondent needs a unique id."
        )
    dup = ids.duplicated(keep=False).to_numpy() & ids.notna().to_numpy()
    if dup.any():
        problems.append(
            f"column {idc!r}: duplicate respondent id in {_where(df, dup, idc)}. "
            "Fix: each respondent must have a unique id."
        )

    for g in codebook.groups:
        col = g.column
        vals = df[col].astype("string")
        unknown = ~vals.isin(list(g.levels)).to_numpy()
        if g.optional:
            unknown &= vals.notna().to_numpy()
        if unknown.any():
            problems.append(
                f"column {col!r}: unknown level(s) "
                f"{sorted(set(vals[unknown].fillna('<missing>')))} "
                f"in {_where(df, unknown, idc, df[col])}; the codebook allows {list(g.levels)}. "
                "Fix: recode them or add the level to the codebook."
            )
        empty = [lv for lv in g.levels if not (vals == lv).any()]
        if empty:
            problems.append(
                f"column {col!r}: level(s) {empty} named in the codebook have no respondents. "
                "Fix: remove them from the codebook's levels for this wave."
            )
        out[col] = vals.astype(object).where(vals.notna(), None)

    if codebook.weight:
        w = _to_numeric(df, codebook.weight, problems, idc)
        bad = (w.isna() & df[codebook.weight].notna()).to_numpy()
        miss = df[codebook.weight].isna().to_numpy()
        if miss.any():
            problems.append(
                f"column {codebook.weight!r}: missing weight in {_where(df, miss, idc)}. "
                "Fix: every respondent needs a weight (use 1 if unweighted)."
            )
        neg = (w < 0).to_numpy()
        if neg.any():
            problems.append(
                f"column {codebook.weight!r}: negative weight in {_where(df, neg, idc, w)}. "
                "Fix: weights must be zero or positive."
            )
        if not bad.any():
            out[codebook.weight] = w

    for t in codebook.treatments:
        num = _to_numeric(df, t.column, problems, idc)
        bad = ~num.isin([0, 1]).to_numpy()
        if t.optional:
            bad &= df[t.column].notna().to_numpy()
        if bad.any():
            problems.append(
                f"column {t.column!r}: a randomised treatment must be 0 (not shown) or 1 "
                f"(shown) for every respondent; {_where(df, bad, idc, df[t.column])}. Fix: "
                "recode it; an unknown assignment cannot be analysed as randomised."
            )
        out[t.column] = num

    for d in codebook.demographics:
        num = _to_numeric(df, d.column, problems, idc)
        num = _apply_missing(num, d.missing, reasons, d.column)
        if d.type == "binary":
            bad = (num.notna() & ~num.isin([0, 1])).to_numpy()
            if bad.any():
                problems.append(
                    f"column {d.column!r}: binary variable has value(s) other than 0/1 in "
                    f"{_where(df, bad, idc, df[d.column])}"
                    + (f"; missing codes are {sorted(d.missing)}" if d.missing else "")
                    + ". Fix: code it 0/1 or use a missing code."
                )
        else:
            lo = -np.inf if d.min is None else d.min
            hi = np.inf if d.max is None else d.max
            bad = (num.notna() & ((num < lo) | (num > hi))).to_numpy()
            if bad.any():
                problems.append(
                    f"column {d.column!r}: value(s) outside [{d.min}, {d.max}] in "
                    f"{_where(df, bad, idc, df[d.column])}"
                    + (f"; missing codes are {sorted(d.missing)}" if d.missing else "")
                    + ". Fix: correct them or use a missing code."
                )
        out[d.column] = num

    for it in codebook.items:
        num = _to_numeric(df, it.column, problems, idc)
        num = _apply_missing(num, it.scale.missing, reasons, it.column)
        bad = (num.notna() & ~num.isin(list(it.scale.codes))).to_numpy()
        if bad.any():
            problems.append(
                f"column {it.column!r}: code(s) outside scale {it.scale.name!r} "
                f"(codes {list(it.scale.codes)}, missing codes {sorted(it.scale.missing)}) in "
                f"{_where(df, bad, idc, df[it.column])}. Fix: recode them or declare them as "
                "missing codes in the codebook."
            )
        out[it.column] = num

    if problems:
        head = f"survey data do not match codebook {codebook.name!r} ({len(problems)} problem(s)):"
        raise SurveyDataError("\n  - ".join([head, *problems]))
    missing_reasons = pd.DataFrame(reasons, index=df.index)
    return out, missing_reasons
