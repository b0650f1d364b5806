"""The package's one exception family and its warnings."""

from __future__ import annotations

__all__ = ["CoprodError", "SurveyDataError", "SpecError", "CoprodWarning", "ConvergenceWarning"]


class CoprodError(Exception):
    """Base class of every error coprod_bayes raises on purpose."""


class SurveyDataError(CoprodError, ValueError):
    """Survey data or a codebook is invalid.

    The message names the column, the first offending rows and their values, and how to fix it.
    """


class SpecError(CoprodError, ValueError):
    """A model specification is invalid (unknown construct, predictor or grouping column)."""


class CoprodWarning(UserWarning):
    """Base class of the package's warnings."""


class ConvergenceWarning(CoprodWarning):
    """A fit did not converge (R-hat, effective sample size or divergences)."""
