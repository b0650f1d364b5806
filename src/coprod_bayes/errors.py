"""The package's one exception family and its warnings."""

from __future__ import annotations

__all__ = ["CoprodError", "SurveyDataError", "SpecError", "CoprodWarning", "ConvergenceWarning"]


class CoprodError(Exception):
    """Base class of every error coprod_bayes raises on purpose.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> try:
    ...     cb.load_spec("no_such_spec")
    ... except cb.CoprodError as err:
    ...     print(type(err).__name__)
    SpecError
    """


class SurveyDataError(CoprodError, ValueError):
    """Survey data or a codebook is invalid.

    The message names the column, the first offending rows and their values, and how to fix it.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> cb.load_codebook("no_such_codebook")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SurveyDataError: codebook 'no_such_codebook' is neither a built-in ...
    """


class SpecError(CoprodError, ValueError):
    """A model specification is invalid (unknown construct, predictor or grouping column).

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> cb.Spec("demo", "collective", ("age",), pooling="some")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: spec 'demo': pooling = 'some'; use one of [...]
    """


class CoprodWarning(UserWarning):
    """Base class of the package's warnings."""


class ConvergenceWarning(CoprodWarning):
    """A fit did not converge (R-hat, effective sample size or divergences).

    Examples
    --------
    >>> import warnings
    >>> import coprod_bayes as cb
    >>> issubclass(cb.ConvergenceWarning, UserWarning)
    True
    >>> with warnings.catch_warnings():  # doctest: +SKIP
    ...     warnings.simplefilter("error", cb.ConvergenceWarning)
    ...     f = cb.fit("table3_collective", cb.simulate(seed=0), draws=100, tune=100)
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.ConvergenceWarning: table3_collective: NOT CONVERGED: ...
    """
