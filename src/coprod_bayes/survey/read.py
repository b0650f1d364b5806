"""Reading survey files (CSV, Parquet, SPSS ``.sav``, Stata ``.dta``) into a :class:`Survey`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SurveyDataError
from .codebook import Codebook, load_codebook
from .survey import Survey

__all__ = ["read_survey", "read_frame"]


def read_frame(path: str | Path, codebook: Codebook | None = None) -> pd.DataFrame:
    """Read a file into a raw DataFrame, keeping missing-value codes as numbers.

    SPSS user-missing values are kept as their codes (``user_missing=True``) so that the
    codebook, not the file's metadata, decides what is missing; value labels are not applied.
    Group columns named by ``codebook`` are read as strings.
    """
    path = Path(path)
    if not path.exists():
        raise SurveyDataError(f"survey file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        dtype = {g: "string" for g in (codebook.group_columns if codebook else [])}
        sep = "\t" if suffix == ".tsv" else ","
        return pd.read_csv(path, sep=sep, dtype=dtype, keep_default_na=True)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".sav", ".zsav", ".dta"):
        import pyreadstat

        if suffix == ".dta":
            df, _ = pyreadstat.read_dta(str(path), apply_value_formats=False)
        else:
            df, _ = pyreadstat.read_sav(str(path), apply_value_formats=False, user_missing=True)
        if codebook is not None:
            _restore_whole_numbers(df, [codebook.id, *codebook.group_columns])
        return df
    raise SurveyDataError(
        f"survey file {str(path)!r}: unknown format {suffix!r}; "
        "use .csv, .parquet, .sav or .dta"
    )


def _restore_whole_numbers(df: pd.DataFrame, columns: list[str]) -> None:
    """Read whole-number ids and group codes back as integers, in place.

    SPSS holds every number as a double (and pyreadstat writes Stata integers as doubles), so
    respondent 17 comes back as ``17.0`` and a wave coded 2008 as the level ``"2008.0"``, which
    the codebook does not know. Other columns are left alone: validation makes codes float.
    """
    for col in columns:
        if col not in df.columns or not pd.api.types.is_float_dtype(df[col]):
            continue
        values = df[col].dropna().to_numpy()
        if len(values) and np.isfinite(values).all() and (values == np.round(values)).all():
            df[col] = df[col].astype("int64" if len(values) == len(df) else "Int64")


def read_survey(source: str | Path | pd.DataFrame,
                codebook: str | Path | Codebook = "eu5_2008") -> Survey:
    """Read and validate a survey wave.

    Parameters
    ----------
    source : str, Path or DataFrame
        A CSV, Parquet, SPSS (``.sav``) or Stata (``.dta``) file, or a DataFrame of raw codes.
    codebook : str, Path or Codebook, default "eu5_2008"
        A built-in codebook's name or a path to a YAML codebook.

    Returns
    -------
    Survey

    Raises
    ------
    SurveyDataError
        If the file cannot be read or the data do not match the codebook; the message names
        the column, the first offending rows and values.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> df = cb.simulate(n_per_country=30, seed=3).frame
    >>> cb.read_survey(df).n_respondents
    150
    """
    cbk = load_codebook(codebook)
    if isinstance(source, pd.DataFrame):
        return Survey.from_frame(source, cbk, source="<DataFrame>")
    df = read_frame(source, cbk)
    return Survey.from_frame(df, cbk, source=str(source))
