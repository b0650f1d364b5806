"""Posterior group means of the indexes (Figures 3-4 with intervals) and ranking probabilities."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import arviz as az
import pandas as pd

from .classical.means import group_means
from .errors import ConvergenceWarning
from .fit import Verdict, assess, sample
from .spec.spec import Sampler
from .survey.survey import Survey

__all__ = ["MeansFit", "country_means"]


@dataclass
class MeansFit:
    """Posterior means of one index by group, with the classical (weighted, by default)
    means beside them."""

    index: str
    group: str
    idata: az.InferenceData
    verdict: Verdict
    classical: pd.DataFrame
    weighted: bool = True

    def summary(self, hdi_prob: float = 0.95) -> pd.DataFrame:
        """Tidy: ``group``, ``mean``, ``sd``, ``lower``, ``upper`` (HDI), and the classical
        ``classical_mean``, ``classical_lower``, ``classical_upper`` (95% normal interval)."""
        draws = self.idata.posterior["group_mean"]
        hdi = az.hdi(self.idata, var_names=["group_mean"], hdi_prob=hdi_prob)["group_mean"]
        flat = draws.stack(s=("chain", "draw")).values
        out = pd.DataFrame({
            self.group: list(draws["group"].values), "index": self.index,
            "mean": flat.mean(1), "sd": flat.std(1),
            "lower": hdi.sel(hdi="lower").values, "upper": hdi.sel(hdi="higher").values,
        })
        cl = self.classical.set_index(self.group)
        out["classical_mean"] = out[self.group].map(cl["mean"]).to_numpy()
        out["classical_lower"] = out[self.group].map(cl["lower"]).to_numpy()
        out["classical_upper"] = out[self.group].map(cl["upper"]).to_numpy()
        out.attrs["verdict"] = self.verdict.headline
        return out

    def rankings(self) -> pd.DataFrame:
        """Probability that each group ranks 1st (highest), 2nd, ...: tidy frame."""
        from .engines.means import rank_probabilities

        draws = self.idata.posterior["group_mean"].values
        out = rank_probabilities(draws, list(self.idata.posterior["group"].values))
        out.attrs["verdict"] = self.verdict.headline
        return out.rename(columns={"group": self.group})


def country_means(
    survey: Survey, index: str, group: str = "country", weighted: bool = True,
    area: str | None = None, sampler: Sampler | None = None,
) -> MeansFit:
    """Posterior mean of an index (0-100) per group, partially pooled.

    The model (:mod:`coprod_bayes.engines.means`): each group's index scores Normal around
    the group's mean, the means Normal around a population mean with an estimated
    between-group SD; respondents without a score are not used.

    Parameters
    ----------
    survey : Survey
        The survey to score.
    index : str
        A construct or composite index (``"individual"``, ``"coproduction"``).
    group : str, default "country"
        A grouping column of the codebook.
    weighted : bool, default True
        Survey weights as a normalised pseudo-likelihood (the papers' means are weighted).
    area : str, optional
        Only this policy area's items.
    sampler : Sampler, optional
        Sampler settings; by default ``Sampler(target_accept=0.95)``.

    Returns
    -------
    MeansFit
        ``summary()`` (posterior means with HDIs beside the classical weighted means and
        their 95% intervals), ``rankings()`` (the probability of each rank per group),
        ``idata`` (``group_mean`` by group) and ``verdict``.

    Raises
    ------
    SurveyDataError
        If ``index`` is not a construct or index of the codebook, or ``group`` not one of
        its grouping columns.

    Warns
    -----
    ConvergenceWarning
        If the fit did not converge.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> m = cb.country_means(cb.simulate(seed=0), "collective")  # doctest: +SKIP
    >>> m.rankings().query("rank == 1")  # doctest: +SKIP
    """
    from .engines.means import build_means_model, draw_group_means, prepare_means

    sampler = sampler or Sampler(target_accept=0.95)
    data = prepare_means(survey, index, group, weighted, area)
    idata = sample(build_means_model(data), sampler)
    draws = draw_group_means(data, idata.posterior, sampler.seed)
    idata.posterior["group_mean"] = (("chain", "draw", "group"), draws)
    idata.posterior = idata.posterior.assign_coords(group=data.groups)
    verdict = assess(idata, ["mu", "tau", "sigma", "group_mean"])
    if not verdict.converged:
        warnings.warn(f"means of {data.index}: {verdict.headline}", ConvergenceWarning,
                      stacklevel=2)
    classical = group_means(survey, index, group, weighted, area)
    return MeansFit(data.index, group, idata, verdict, classical, weighted)
