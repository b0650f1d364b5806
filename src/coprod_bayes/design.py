"""Designing the next wave: the assurance of a planned randomised experiment.

For a planned wave (number of local areas, respondents per arm and area, the expected
effects), the **assurance** is the probability, over surveys simulated from the plan, that
the analysis will show the effect credibly: that the posterior probability of the chosen
contrast (by default nudge A's main effect averaged over the areas) being positive exceeds
0.95. Each simulated survey is analysed with the model of the ``nudge_experiment`` spec (or
another experiment spec), so the assurance accounts for its priors and partial pooling.

The simulation is at the analysis level, in outcome SDs: in area g, the outcome of a
respondent in arm (A, B) is

    y = alpha_g + (a + u_gA) A + (b + u_gB) B + (ab + u_gAB) A B + e,   e ~ Normal(0, 1),
    alpha_g ~ Normal(0, area_mean_sd),  u_g. ~ Normal(0, area_sd)

with ``a``, ``b``, ``ab`` the plan's expected effects (Cohen's d). The outcome's own SD
within arm is 1, so an effect of 0.1 is a tenth of a within-arm SD (about 2 points of the
collective co-production index, whose SD is about 21).

The simulations run through Dask's distributed scheduler: a local cluster (one worker per
core, one thread each) by default, or a user's cluster by address, so a study of thousands
of simulated surveys can leave one machine. Each worker compiles the model once and gives it
each simulated survey's sufficient statistics (nutpie's ``with_data``). Every finished
simulation is written to ``cache_dir`` (one small JSON file each, in a folder named by a
hash of the plan, the analysing spec's contents, the seed, draws and tune, and named by the
simulation's number), so a stopped study resumes where it was and a larger one reuses the
smaller one's simulations.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SpecError

__all__ = ["WavePlan", "assurance", "simulate_plan", "analyse", "plot_assurance"]


@dataclass(frozen=True)
class WavePlan:
    """A planned experiment wave.

    Parameters
    ----------
    areas : int
        Local areas (groups), each running the full 2x2 design.
    per_arm : int
        Respondents per arm in each area (4 x per_arm per area).
    effect : float
        Expected effect of nudge A without nudge B, in outcome SDs.
    effect_b, interaction : float
        Expected effect of nudge B without A, and the A x B interaction.
    area_sd : float
        Between-area SD of each effect (outcome SDs).
    area_mean_sd : float
        Between-area SD of the outcome's mean.
    contrast : str
        The contrast that must be credibly positive (see
        :data:`coprod_bayes.experiment.CONTRASTS`).
    level : {"all", "population"}
        Averaged over the plan's areas, or for a new area.
    threshold : float
        Posterior probability of a positive contrast that counts as credible.

    Raises
    ------
    SpecError
        If ``areas`` is not a positive integer, ``per_arm`` not an integer >= 2, the
        contrast is unknown, the level not ``"all"`` or ``"population"``, the threshold not
        in [0.5, 1), or an SD negative.

    Examples
    --------
    >>> from coprod_bayes.design import WavePlan
    >>> plan = WavePlan(areas=4, per_arm=100, effect=0.1)
    >>> 4 * plan.per_arm * plan.areas  # respondents in the wave
    1600
    >>> WavePlan(per_arm=1)
    Traceback (most recent call last):
    ...
    coprod_bayes.errors.SpecError: plan: per_arm must be an integer >= 2, got 1
    """

    areas: int = 4
    per_arm: int = 200
    effect: float = 0.1
    effect_b: float = 0.0
    interaction: float = 0.0
    area_sd: float = 0.05
    area_mean_sd: float = 0.2
    contrast: str = "A (main)"
    level: str = "all"
    threshold: float = 0.95

    def __post_init__(self):
        from .experiment import CONTRASTS

        if not (isinstance(self.areas, int) and self.areas >= 1):
            raise SpecError(f"plan: areas must be a positive integer, got {self.areas!r}")
        if not (isinstance(self.per_arm, int) and self.per_arm >= 2):
            raise SpecError(f"plan: per_arm must be an integer >= 2, got {self.per_arm!r}")
        if self.contrast not in CONTRASTS:
            raise SpecError(f"plan: contrast {self.contrast!r} unknown; choose one of "
                            f"{list(CONTRASTS)}")
        if self.level not in ("all", "population"):
            raise SpecError(f"plan: level {self.level!r}; choose 'all' or 'population'")
        if not 0.5 <= self.threshold < 1:
            raise SpecError(f"plan: threshold must be in [0.5, 1), got {self.threshold!r}")
        if self.area_sd < 0 or self.area_mean_sd < 0:
            raise SpecError("plan: area_sd and area_mean_sd must be >= 0")

    def key(self, spec="nudge_experiment", seed: int = 0, draws: int | None = None,
            tune: int | None = None) -> str:
        """A short hash of the plan and of everything that decides a simulation's result:
        the analysing spec's contents (not only its name: a changed prior is another
        study), the seed, draws and tune. The cache's folder name.

        Parameters
        ----------
        spec : str or ExperimentSpec, default "nudge_experiment"
            The analysing spec, as given to :func:`assurance`.
        seed, draws, tune
            As given to :func:`assurance`.

        Returns
        -------
        str
            12 hexadecimal digits.

        Examples
        --------
        >>> WavePlan().key() == WavePlan(effect=0.2).key()
        False
        >>> WavePlan().key(seed=0) == WavePlan().key(seed=1)
        False
        """
        spec = _spec_for(spec)
        text = json.dumps({**asdict(self), "spec": asdict(spec), "seed": seed, "draws": draws,
                           "tune": tune}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


# -- one simulated survey --------------------------------------------------------------------

def simulate_plan(plan: WavePlan, seed: int | list[int]) -> pd.DataFrame:
    """One survey simulated from the plan: columns ``group``, ``y``, ``nudge_a``,
    ``nudge_b``, ``weight`` (1), ``respondent_id``; ``attrs["levels"]`` the area names.

    The outcome follows the model of the module docstring, in outcome SDs.

    Parameters
    ----------
    plan : WavePlan
        The planned wave.
    seed : int or list of int
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    DataFrame
        ``4 * per_arm`` rows per area (areas ``area1``, ``area2``, ...), area by area and
        within each arm by arm (none, A only, B only, A and B); ``nudge_a`` and ``nudge_b``
        0/1 as floats, ``respondent_id`` 0, 1, ...

    Examples
    --------
    >>> from coprod_bayes.design import WavePlan
    >>> d = simulate_plan(WavePlan(areas=2, per_arm=10), seed=1)
    >>> d.shape, d.attrs["levels"]
    ((80, 6), ['area1', 'area2'])
    >>> d.groupby(["nudge_a", "nudge_b"]).size().tolist()
    [20, 20, 20, 20]
    """
    rng = np.random.default_rng(seed)
    G, n = plan.areas, plan.per_arm
    arms = np.array([(0, 0), (1, 0), (0, 1), (1, 1)], float)
    A = np.tile(np.repeat(arms[:, 0], n), G)
    B = np.tile(np.repeat(arms[:, 1], n), G)
    g = np.repeat(np.arange(G), 4 * n)
    alpha = rng.normal(0, plan.area_mean_sd, G)
    eff = np.array([plan.effect, plan.effect_b, plan.interaction])
    u = eff + plan.area_sd * rng.standard_normal((G, 3))
    y = alpha[g] + u[g, 0] * A + u[g, 1] * B + u[g, 2] * A * B + rng.standard_normal(len(g))
    levels = [f"area{k + 1}" for k in range(G)]
    d = pd.DataFrame({"group": np.array(levels)[g], "y": y, "nudge_a": A, "nudge_b": B,
                      "weight": 1.0, "respondent_id": np.arange(len(g))})
    d.attrs["levels"] = levels
    return d


_COMPILED: dict = {}  # per process: (spec name, areas) -> compiled nutpie model


def _spec_for(spec):
    from .experiment import ExperimentSpec
    from .spec import load_spec

    spec = load_spec(spec)
    if not isinstance(spec, ExperimentSpec):
        raise SpecError(f"design: spec {spec.name!r} is not an experiment spec")
    return replace(spec, outcomes=("y",), covariates=())


def analyse(plan: WavePlan, d: pd.DataFrame, spec="nudge_experiment", draws: int | None = None,
            tune: int | None = None, seed: int = 0) -> dict:
    """Fit one simulated survey with the spec's model (compiled once per process) and
    return P(contrast > 0), its posterior mean and SD (outcome SDs), and the verdict.

    The spec is reduced to the one outcome ``y`` without covariates and sampled with
    nutpie (2 chains, one core). The contrast is ``plan.contrast``: with ``plan.level``
    ``"all"`` of the areas' coefficients averaged with weights proportional to their
    respondents, with ``"population"`` of the population means ``mu`` (a new area).

    Parameters
    ----------
    plan : WavePlan
        The plan ``d`` was simulated from (its areas, contrast and level).
    d : DataFrame
        A survey from :func:`simulate_plan`.
    spec : str or ExperimentSpec, default "nudge_experiment"
        The analysing experiment spec (its priors, pooling and sampler settings).
    draws, tune : int, optional
        Per chain; by default the spec's sampler settings.
    seed : int, default 0
        The sampler's seed.

    Returns
    -------
    dict
        ``p_positive``, ``mean``, ``sd`` (of the contrast's posterior, outcome SDs),
        ``converged``, ``max_rhat``, ``divergences``.

    Raises
    ------
    SpecError
        If ``spec`` is not an experiment spec.

    Examples
    --------
    >>> from coprod_bayes.design import WavePlan
    >>> plan = WavePlan(areas=4, per_arm=100)
    >>> d = simulate_plan(plan, seed=0)
    >>> analyse(plan, d, draws=1000, tune=500)["p_positive"]  # doctest: +SKIP
    """
    import nutpie

    from .engines import regression
    from .experiment import CONTRASTS, _regression_data, _weights
    from .fit import assess

    spec = _spec_for(spec)
    rows = pd.DataFrame({"group": d.attrs["levels"]})
    data = _regression_data(d, spec, "y", rows)
    key = (spec.name, spec.priors, plan.areas, spec.interaction)
    if key not in _COMPILED:
        model = regression.build_model(spec, data, shared=True)
        _COMPILED[key] = nutpie.compile_pymc_model(model)
    compiled = _COMPILED[key].with_data(XtX=data.XtX, Xty=data.Xty, yty=data.yty, n=data.n)
    idata = nutpie.sample(compiled, draws=draws or spec.sampler.draws,
                          tune=tune or spec.sampler.tune, chains=2, cores=1, seed=seed,
                          progress_bar=False, target_accept=spec.sampler.target_accept)
    beta = regression.draw_group_coefficients(spec, data, idata.posterior, seed)
    beta = beta.reshape(-1, *beta.shape[2:]) * data.y_scale[0]  # back to outcome units
    if plan.level == "all":
        coef = np.einsum("sgp,g->sp", beta, data.n / data.n.sum())
    else:
        mu = idata.posterior["mu"].values
        coef = mu.reshape(-1, mu.shape[-1]) * data.y_scale[0]
    w = _weights(CONTRASTS[plan.contrast], coef.shape[1], spec.interaction)
    x = coef @ w
    verdict = assess(idata, [v for v in ("mu", "tau", "sigma") if v in idata.posterior])
    return {"p_positive": float((x > 0).mean()), "mean": float(x.mean()),
            "sd": float(x.std(ddof=1)), "converged": bool(verdict.converged),
            "max_rhat": float(verdict.max_rhat), "divergences": int(verdict.divergences)}


def _run_batch(plan_dict: dict, spec, indices: list[int], seed: int, cache: str,
               draws: int, tune: int) -> list[dict]:
    """Simulate and analyse the simulations ``indices`` of a plan (on a Dask worker);
    each result is written to the cache as it finishes."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    plan = WavePlan(**plan_dict)
    out = []
    for i in indices:
        path = Path(cache) / f"sim_{i:06d}.json"
        if path.exists():
            out.append(json.loads(path.read_text()))
            continue
        d = simulate_plan(plan, [seed, plan.per_arm, plan.areas, i])
        res = {"sim": i, "per_arm": plan.per_arm,
               **analyse(plan, d, spec, draws, tune, seed=seed * 1_000_003 + i)}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(res))
        tmp.replace(path)  # atomic: a stopped run leaves no half-written result
        out.append(res)
    return out


# -- the study --------------------------------------------------------------------------------

def assurance(plan: WavePlan, per_arm: list[int] | None = None, sims: int = 200,
              spec="nudge_experiment", cache_dir: str | Path = "design_cache",
              address: str | None = None, workers: int | None = None, seed: int = 0,
              draws: int | None = None, tune: int | None = None, batch: int = 10
              ) -> pd.DataFrame:
    """The assurance of ``plan`` at each sample size in ``per_arm``.

    Parameters
    ----------
    plan : WavePlan
        The planned wave (its areas, effects, contrast, level and threshold).
    per_arm : list of int, optional
        Respondents per arm and area to evaluate (default: the plan's).
    sims : int, default 200
        Simulated surveys per sample size (the assurance's Monte Carlo SE is at most
        0.5 / sqrt(sims)).
    spec : str or ExperimentSpec, default "nudge_experiment"
        The analysis (its priors, pooling and sampler's target_accept).
    cache_dir : path
        Finished simulations, one JSON file each under ``cache_dir/<key>/`` (the key:
        :meth:`WavePlan.key` of the plan, spec, seed, draws and tune); a rerun with the same
        settings reads them instead of simulating again.
    address : str, optional
        A Dask scheduler's address (``"tcp://host:8786"``); by default a local cluster.
    workers : int, optional
        Workers of the local cluster (default: the cores; one thread each).
    seed : int, default 0
        Simulation i of sample size n uses ``default_rng([seed, n, areas, i])``.
    draws, tune : int, optional
        Per chain (2 chains) for each simulated survey; by default the spec's (2,000 and
        1,000 for ``nudge_experiment``: with 1,000 and 500, 9 of 120 fits fell short of a
        tail ESS of 400).
    batch : int, default 10
        Simulations per Dask task.

    Returns
    -------
    DataFrame
        Per sample size: ``per_arm``, ``n_total`` (respondents in the wave), ``sims``,
        ``assurance`` (share credibly positive), ``se`` (its binomial Monte Carlo SE),
        ``mean_p`` (mean posterior probability), ``mean_effect`` and ``mean_sd`` of the
        contrast (outcome SDs), ``not_converged`` (simulations whose fit did not converge;
        they count as not credible). Sample sizes in ascending order, each once.
        ``attrs["cache"]`` is ``cache_dir`` (as a string), ``attrs["plan"]`` the plan as a
        dict.

    Raises
    ------
    SpecError
        If ``spec`` is not an experiment spec, or a sample size in ``per_arm`` is below 2.

    Examples
    --------
    >>> from coprod_bayes.design import WavePlan, assurance
    >>> plan = WavePlan(areas=4, per_arm=100, effect=0.1)
    >>> curve = assurance(plan, per_arm=[100, 200, 400], sims=200)  # doctest: +SKIP
    >>> curve[["per_arm", "assurance", "se"]]                       # doctest: +SKIP
    """
    from dask.distributed import Client, LocalCluster

    sizes = sorted(set(per_arm or [plan.per_arm]))
    spec_obj = _spec_for(spec)
    jobs, folders = [], {}
    for n in sizes:
        p = replace(plan, per_arm=int(n))
        folder = Path(cache_dir) / p.key(spec, seed, draws, tune)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "plan.json").write_text(json.dumps({**asdict(p), "spec": spec_obj.name,
                                                       "seed": seed}, indent=1))
        folders[n] = folder
        todo = [i for i in range(sims) if not (folder / f"sim_{i:06d}.json").exists()]
        for k in range(0, len(todo), batch):
            jobs.append((asdict(p), todo[k:k + batch], str(folder)))
    if jobs:
        if address:
            client = Client(address)
            cluster = None
        else:
            cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1,
                                   threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
        try:
            futures = [client.submit(_run_batch, pd_, spec_obj, idx, seed, folder, draws, tune,
                                     pure=False) for pd_, idx, folder in jobs]
            client.gather(futures)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    rows = []
    for n in sizes:
        res = [json.loads((folders[n] / f"sim_{i:06d}.json").read_text()) for i in range(sims)]
        r = pd.DataFrame(res)
        ok = r["converged"] & (r["p_positive"] > plan.threshold)
        a = float(ok.mean())
        rows.append({"per_arm": n, "n_total": 4 * n * plan.areas, "sims": len(r),
                     "assurance": a, "se": float(np.sqrt(a * (1 - a) / len(r))),
                     "mean_p": float(r["p_positive"].mean()),
                     "mean_effect": float(r["mean"].mean()), "mean_sd": float(r["sd"].mean()),
                     "not_converged": int((~r["converged"]).sum())})
    out = pd.DataFrame(rows)
    out.attrs["cache"] = str(cache_dir)
    out.attrs["plan"] = asdict(plan)
    return out


def plot_assurance(result: pd.DataFrame, title: str | None = None):
    """The assurance against the respondents per arm, with +-2 Monte Carlo SE bars (cut at
    0 and 1).

    A dashed line marks an assurance of 0.8.

    Parameters
    ----------
    result : DataFrame
        :func:`assurance`'s table (columns ``per_arm``, ``assurance`` and ``se``; the
        default title reads the plan from ``attrs["plan"]`` if present).
    title : str, optional
        The axes' title; by default the contrast, the effect and the number of areas.

    Returns
    -------
    matplotlib.figure.Figure
        One axes.

    Examples
    --------
    >>> import pandas as pd
    >>> result = pd.DataFrame({"per_arm": [100, 200, 400], "assurance": [0.6, 0.85, 0.99],
    ...                        "se": [0.035, 0.025, 0.007]})
    >>> fig = plot_assurance(result, title="nudge A, 4 areas")
    >>> fig.axes[0].get_title()
    'nudge A, 4 areas'
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    a = result["assurance"].to_numpy(float)
    half = 2 * result["se"].to_numpy(float)
    # the bars stop at 0 and 1: an assurance is a probability
    bars = np.vstack([np.minimum(half, a), np.minimum(half, 1 - a)])
    ax.errorbar(result["per_arm"], a, yerr=bars, fmt="o-", capsize=3, color="#1f4e79")
    ax.axhline(0.8, ls="--", color="grey", lw=0.8)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("respondents per arm and area")
    ax.set_ylabel("assurance")
    plan = result.attrs.get("plan", {})
    ax.set_title(title or (f"P(credible {plan.get('contrast', '')}): effect "
                           f"{plan.get('effect', '?')} SD, {plan.get('areas', '?')} areas"),
                 fontsize=9)
    fig.tight_layout()
    return fig
