"""The validated survey wave every analysis starts from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import SurveyDataError
from .codebook import Codebook, load_codebook
from .validate import validate_frame

__all__ = ["Survey"]


@dataclass(frozen=True, eq=False)
class Survey:
    """A survey wave validated against its codebook.

    Build it with :func:`coprod_bayes.read_survey` or :func:`coprod_bayes.simulate`, or
    directly as ``Survey.from_frame(df, codebook)``; the constructor itself does not
    validate. The parameters are kept as (frozen) attributes of the same names.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent: codes as float (missing answers NaN), groups as strings.
    codebook : Codebook
        The codebook the frame was validated against.
    missing_reasons : DataFrame, optional
        Why each missing answer is missing (``dont_know``, ``refused``), for columns that had
        missing-value codes; empty by default.
    truth : dict or None, default None
        For simulated surveys, every generating parameter.
    source : str, default ""
        Where the data came from (a path, ``"simulated"`` ...).
    waves : dict, optional
        For a survey of several waves (:func:`coprod_bayes.combine`), each wave's own
        codebook by wave label; empty for a single wave.
    harmonised : list of dict, optional
        Items of a combined survey recoded onto another wave's scale by a codebook's
        ``harmonise`` mapping: wave, item, mapping and how many responses changed.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=30, seed=3)
    >>> s.n_respondents, s.wave, s.levels("country")
    (150, '2008', ['CZ', 'DK', 'DE', 'FR', 'GB'])
    >>> s.frame.columns[:4].tolist()
    ['respondent_id', 'country', 'weight', 'age']
    """

    frame: pd.DataFrame
    codebook: Codebook
    missing_reasons: pd.DataFrame = field(default_factory=pd.DataFrame)
    truth: dict[str, Any] | None = None
    source: str = ""
    waves: dict[str, Codebook] = field(default_factory=dict)
    harmonised: list[dict] = field(default_factory=list)

    @classmethod
    def from_frame(
        cls, df: pd.DataFrame, codebook: str | Codebook = "eu5_2008", *, source: str = "",
        truth: dict | None = None,
    ) -> Survey:
        """Validate ``df`` against ``codebook`` and wrap it.

        Parameters
        ----------
        df : DataFrame
            Raw codes, one row per respondent, the codebook's columns (missing-value codes
            as numbers).
        codebook : str or Codebook, default "eu5_2008"
            A built-in codebook's name, a path to a YAML codebook or a :class:`Codebook`.
        source : str, default ""
            Where the data came from, kept in ``source``.
        truth : dict, optional
            The generating parameters of a simulated survey, kept in ``truth``.

        Returns
        -------
        Survey
            With the validated frame (index reset) and the reasons for missing answers.

        Raises
        ------
        SurveyDataError
            If the data do not match the codebook (see :func:`validate_frame`).

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> s = cb.simulate(n_per_country=50, seed=1)
        >>> Survey.from_frame(s.frame, "eu5_2008").n_respondents
        250
        """
        cbk = load_codebook(codebook)
        frame, reasons = validate_frame(df, cbk)
        return cls(frame.reset_index(drop=True), cbk, reasons.reset_index(drop=True), truth,
                   source)

    # ------------------------------------------------------------------ basics
    @property
    def n_respondents(self) -> int:
        """Number of respondents (rows)."""
        return len(self.frame)

    @property
    def wave(self) -> str | None:
        """The wave's label from the codebook (``"2008"``) or its ``wave`` column."""
        if "wave" in self.frame.columns:
            vals = self.frame["wave"].dropna().unique()
            if len(vals) == 1:
                return str(vals[0])
        return self.codebook.wave

    def levels(self, group: str = "country") -> list[str]:
        """The group's levels in codebook order.

        Parameters
        ----------
        group : str, default "country"
            A grouping column of the codebook.

        Returns
        -------
        list of str

        Raises
        ------
        SurveyDataError
            If the codebook has no grouping column ``group``.

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> cb.simulate(n_per_country=30, seed=3).levels("country")
        ['CZ', 'DK', 'DE', 'FR', 'GB']
        """
        return list(self.codebook.group(group).levels)

    def weights(self) -> pd.Series:
        """The survey weights (ones when the codebook names no weight).

        Returns
        -------
        Series
            One float per respondent, indexed as ``frame``.
        """
        if self.codebook.weight:
            return self.frame[self.codebook.weight].astype(float)
        return pd.Series(1.0, index=self.frame.index, name="weight")

    def to_raw(self) -> pd.DataFrame:
        """The frame with missing answers coded again as the codebook's missing-value codes.

        Writing ``to_raw()`` to a file and reading it back gives the same survey, reasons for
        missing answers included. Cells missing without a recorded reason stay empty.

        Returns
        -------
        DataFrame
            A copy of ``frame``; treatment, item and demographic columns without missing
            cells as integers.

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> s = cb.simulate(n_per_country=30, seed=3)
        >>> cb.read_survey(s.to_raw()).frame.equals(s.frame)
        True
        """
        raw = self.frame.copy()
        cb = self.codebook
        code_of = {it.column: it.scale.missing for it in cb.items}
        code_of.update({d.column: d.missing for d in cb.demographics})
        for col in self.missing_reasons.columns:
            inverse = {reason: code for code, reason in code_of.get(col, {}).items()}
            reason = self.missing_reasons[col]
            has = reason.notna().to_numpy()
            if has.any():
                raw.loc[has, col] = reason[has].map(inverse).astype(float).to_numpy()
        for col in cb.treatment_columns + cb.item_columns + cb.demographic_columns:
            if raw[col].notna().all():
                raw[col] = raw[col].astype("int64")
        return raw

    # ------------------------------------------------------------------ scoring
    def scored_items(self, construct: str | None = None) -> pd.DataFrame:
        """Item responses with reverse-keyed items reversed (``min + max - code``).

        Parameters
        ----------
        construct : str, optional
            Only this construct's items.

        Returns
        -------
        DataFrame
            One column per item (codebook order), indexed as ``frame``; missing answers
            stay NaN.

        Raises
        ------
        SurveyDataError
            If ``construct`` is not a construct of the codebook.

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> cb.simulate(n_per_country=30, seed=3).scored_items("efficacy").shape
        (150, 3)
        """
        items = (
            self.codebook.items if construct is None else self.codebook.items_of(construct)
        )
        out = {}
        for it in items:
            x = self.frame[it.column]
            out[it.column] = (it.scale.min + it.scale.max - x) if it.reverse else x
        return pd.DataFrame(out, index=self.frame.index)

    def item_nonresponse(self) -> pd.DataFrame:
        """Share of missing answers per item and demographic column, with counts by reason.

        Returns
        -------
        DataFrame
            One row per item column, then demographic column: ``column``, ``missing``
            (count), ``share``, and one count column per reason found (``dont_know``,
            ``refused`` ...; 0 where absent).
        """
        rows = []
        for col in self.codebook.item_columns + self.codebook.demographic_columns:
            n_miss = int(self.frame[col].isna().sum())
            row = {"column": col, "missing": n_miss, "share": n_miss / max(1, len(self.frame))}
            if col in self.missing_reasons.columns:
                counts = self.missing_reasons[col].value_counts()
                row.update({str(k): int(v) for k, v in counts.items()})
            rows.append(row)
        return pd.DataFrame(rows).fillna(0)

    def summary(self) -> dict[str, pd.DataFrame]:
        """Respondents per group level and item non-response per column.

        Returns
        -------
        dict of str to DataFrame
            One entry per grouping column (its levels in codebook order and
            ``respondents``) and ``nonresponse`` (:meth:`item_nonresponse`).

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> sorted(cb.simulate(n_per_country=30, seed=3).summary())
        ['country', 'nonresponse']
        """
        out = {}
        for g in self.codebook.groups:
            counts = self.frame[g.column].value_counts().reindex(list(g.levels), fill_value=0)
            out[g.column] = counts.rename("respondents").rename_axis(g.column).reset_index()
        out["nonresponse"] = self.item_nonresponse()
        return out

    # ------------------------------------------------------------------ long format
    def to_long(self, area_column: str = "area") -> pd.DataFrame:
        """One row per respondent x policy area (the policy area in ``area_column``).

        Each construct measured once per area becomes one column named after the construct
        (``efficacy``); a construct with several items per area becomes ``{construct}_{k}``
        (``individual_1`` ... ``individual_4``), numbered by the items' order in the area.
        Reverse-keyed items are reversed. Items without an area are not included.

        Parameters
        ----------
        area_column : str, default "area"
            The name of the policy-area column (categorical, in codebook order).

        Returns
        -------
        DataFrame
            The id, ``area_column``, the grouping columns, the weight, the demographics and
            the construct columns; rows grouped by respondent, the areas in codebook
            order.

        Raises
        ------
        SurveyDataError
            If the codebook defines no policy areas, or ``area_column`` is already a
            grouping column (the 2011 panels' local ``area``: pass
            ``area_column="policy_area"``).

        Examples
        --------
        >>> import coprod_bayes as cb
        >>> long = cb.simulate(n_per_country=20, seed=2).to_long()
        >>> long.shape[0]
        300
        """
        cb = self.codebook
        if not cb.areas:
            raise SurveyDataError(
                f"codebook {cb.name!r} defines no policy areas, so there is no respondent x "
                "area table; use Survey.frame or Survey.scored_items() instead"
            )
        if area_column in cb.group_columns:
            raise SurveyDataError(
                f"to_long: {area_column!r} is a grouping column of codebook {cb.name!r} (local "
                "areas), so the policy area needs another name: to_long(area_column="
                "'policy_area')")
        keep = [cb.id, *cb.group_columns]
        if cb.weight:
            keep.append(cb.weight)
        keep += cb.demographic_columns
        scored = self.scored_items()
        parts = []
        for area in cb.areas:
            part = self.frame[keep].copy()
            part.insert(1, area_column, area)
            for construct in cb.constructs:
                items = cb.items_of(construct, area)
                if len(items) == 1:
                    part[construct] = scored[items[0].column].to_numpy()
                else:
                    for k, it in enumerate(items, 1):
                        part[f"{construct}_{k}"] = scored[it.column].to_numpy()
            parts.append(part)
        long = pd.concat(parts, ignore_index=True)
        long[area_column] = pd.Categorical(long[area_column], categories=list(cb.areas))
        order = np.argsort(np.tile(np.arange(len(self.frame)), len(cb.areas)), kind="stable")
        return long.iloc[order].reset_index(drop=True)

    def __repr__(self) -> str:
        groups = ", ".join(
            f"{g.column}: {len(g.levels)}" for g in self.codebook.groups
        )
        return (
            f"Survey({self.codebook.name!r}, wave={self.wave!r}, "
            f"{self.n_respondents} respondents, {len(self.codebook.items)} items, {groups}"
            f"{', simulated' if self.truth is not None else ''})"
        )
