"""Calibration of the simulator to the published figures.

Run ``python -m coprod_bayes.survey.calibrate`` to refit ``data/eu5_2008_params.yaml`` from
the design (``data/eu5_2008_design.yaml``) and the published figures. The routine works on one
large simulated sample with fixed random numbers (common random numbers), so every quantity
it matches is a smooth function of the parameters:

0. item thresholds at the quantiles that give each item its target response shares; the
   loading of efficacy and of each government construct so that its index has the published
   alpha;
1. per country, the correlation of the three government constructs, chosen so that the
   R-squared implied by the published betas and the simulated predictors' correlations,
   ``beta' R_xx beta``, matches the published R-squared of both tables;
2. the outcomes' loadings (alphas), country latent means (weighted country index means) and
   the 90 latent slopes (the published standardised OLS betas), the slopes by Newton steps
   with a finite-difference Jacobian per country and outcome.
"""

from __future__ import annotations

import argparse
import copy
import logging
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from ..published import published_betas, published_figures
from .codebook import Codebook, load_codebook
from .simulate import (
    DEMOGRAPHICS,
    GOV,
    OUTCOMES,
    SLOPE_NAMES,
    _weights,
    demographics,
    draw_noise,
    item_latent_responses,
    latent_state,
    load_design,
    responses,
)

__all__ = ["calibrate", "CalibrationSample", "fast_statistics"]

log = logging.getLogger("coprod_bayes")

PREDICTOR_INDEXES = ["efficacy", *GOV]


class CalibrationSample:
    """A large simulated sample's fixed random numbers and demographics."""

    def __init__(self, design: dict, cb: Codebook, n_per_country: int, seed: int):
        rng = np.random.default_rng(seed)
        self.countries = list(cb.group("country").levels)
        self.areas = list(cb.areas)
        self.noise, self.demo, self.weights = {}, {}, {}
        for c in self.countries:
            nz = draw_noise(rng, n_per_country, len(cb.items), len(self.areas))
            self.noise[c] = nz
            self.demo[c] = demographics(design, c, nz)
        self.moments = {
            c: {d: [float(self.demo[c][d].mean()), float(self.demo[c][d].std())]
                for d in DEMOGRAPHICS}
            for c in self.countries
        }
        for c in self.countries:
            m = self.moments[c]["age"]
            self.weights[c] = _weights(design, self.demo[c], (self.demo[c]["age"] - m[0]) / m[1],
                                       self.noise[c]["weight"])


def _shares(design: dict, column: str, construct: str) -> np.ndarray:
    s = design["item_shares"].get(column, design["item_shares"].get(construct))
    s = np.asarray(s, float)
    return s / s.sum()


def quantile_thresholds(design: dict, cb: Codebook, ystar: np.ndarray) -> dict[str, list[float]]:
    """Thresholds that give each item its target response shares in the pooled sample."""
    out = {}
    for j, it in enumerate(cb.items):
        cum = np.cumsum(_shares(design, it.column, it.construct))[:-1]
        out[it.column] = [float(v) for v in np.quantile(ystar[:, j], cum)]
    return out


def _residual_variances(design: dict, params: dict, cb: Codebook,
                        sample: CalibrationSample) -> None:
    """Set each outcome's residual variance so that its latent variance is 1 per country."""
    for c in sample.countries:
        for o in OUTCOMES:
            params["residual_variance"][o][c] = 0.5  # placeholder: S does not depend on it
        st = latent_state(design, params, c, sample.areas, sample.noise[c], sample.demo[c])
        for k, o in enumerate(OUTCOMES):
            v = 1.0 - float(st["structural"][:, :, k].var())
            params["residual_variance"][o][c] = max(v, 0.05)


def _zscore_cols(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(axis=0)) / x.std(axis=0)


def _ols_betas(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float]:
    yz, Xz = _zscore_cols(y[:, None])[:, 0], _zscore_cols(X)
    beta, *_ = np.linalg.lstsq(Xz, yz, rcond=None)
    resid = yz - Xz @ beta
    return beta, float(1 - resid.var() / yz.var())


def _alpha(x: np.ndarray) -> float:
    k = x.shape[1]
    return float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1)))


def fast_statistics(design: dict, params: dict, cb: Codebook, sample: CalibrationSample,
                    thresholds: dict | None = None) -> dict:
    """The calibration targets' simulated values on complete data (no non-response).

    Returns thresholds used, alphas, weighted country means and overall mean/SD of the
    indexes, and per country the standardised OLS betas and R-squared of both tables.
    """
    ystar, demo, codes_by_c = {}, {}, {}
    for c in sample.countries:
        st = latent_state(design, params, c, sample.areas, sample.noise[c], sample.demo[c])
        ystar[c] = item_latent_responses(design, params, cb, st, sample.noise[c], c)
    if thresholds is None:
        thresholds = quantile_thresholds(design, cb, np.vstack(list(ystar.values())))
    tau = [thresholds[it.column] for it in cb.items]
    lo = np.array([it.scale.min for it in cb.items], float)
    rng_ = np.array([it.scale.max - it.scale.min for it in cb.items], float)
    constructs = [it.construct for it in cb.items]
    idx = {k: [j for j, c in enumerate(constructs) if c == k] for k in cb.constructs}
    out = {"thresholds": thresholds, "betas": {}, "r2": {}, "means": {}, "alpha": {}}
    rescaled_all = []
    index_by_c = {}
    for c in sample.countries:
        codes = responses(ystar[c], tau)
        codes_by_c[c] = codes
        resc = (codes - lo) / rng_
        rescaled_all.append(resc)
        index = {k: 100 * resc[:, j].mean(axis=1) for k, j in idx.items()}
        index_by_c[c] = index
        demo[c] = np.column_stack([sample.demo[c][d] for d in DEMOGRAPHICS])
        X = np.column_stack([demo[c], *[index[k] for k in PREDICTOR_INDEXES]])
        w = sample.weights[c]
        for o in OUTCOMES:
            b, r2 = _ols_betas(index[o], X)
            out["betas"][(o, c)] = b
            out["r2"][(o, c)] = r2
            out["means"][(o, c)] = float(np.average(index[o], weights=w))
        out["means"][("coproduction", c)] = float(np.average(
            100 * resc[:, idx["individual"] + idx["collective"]].mean(axis=1), weights=w))
    resc = np.vstack(rescaled_all)
    for k, j in idx.items():
        out["alpha"][k] = _alpha(resc[:, j])
    w_all = np.concatenate([sample.weights[c] for c in sample.countries])
    for o in OUTCOMES:
        x = np.concatenate([index_by_c[c][o] for c in sample.countries])
        m = float(np.average(x, weights=w_all))
        out["means"][(o, "all")] = m
        out["means"][(o, "sd")] = float(np.sqrt(np.average((x - m) ** 2, weights=w_all)))
    out["predictor_corr"] = {
        c: np.corrcoef(np.column_stack([demo[c], *[index_by_c[c][k] for k in PREDICTOR_INDEXES]]),
                       rowvar=False)
        for c in sample.countries
    }
    return out


def _targets() -> dict:
    pub = published_figures("eu5_2008")
    t = {"alpha": {k: v["alpha"] for k, v in pub["indexes"].items()}, "betas": {}, "r2": {}}
    for table, o in (("table2_individual", "individual"), ("table3_collective", "collective")):
        b = published_betas(table)
        for c, g in b.groupby("country"):
            t["betas"][(o, c)] = g.set_index("predictor").loc[SLOPE_NAMES, "beta"].to_numpy()
            t["r2"][(o, c)] = float(g["r2"].iloc[0])
    return t


def _odds(a: float) -> float:
    return a / (1 - a)


def calibrate(codebook: str = "eu5_2008", n_per_country: int = 20000, seed: int = 20080401,
              newton_steps: int = 6) -> dict:
    """Fit the simulator's free parameters to the published figures.

    Parameters
    ----------
    codebook : str
        A built-in wave with a design file.
    n_per_country : int
        Size of the calibration sample per country (large, so sampling error is small).
    seed : int
        Seed of the calibration sample's random numbers.
    newton_steps : int
        Newton steps on the structural slopes.

    Returns
    -------
    dict
        The parameters, ready to be written as ``{codebook}_params.yaml``.
    """
    cb = load_codebook(codebook)
    design = load_design(codebook)
    targets = _targets()
    sample = CalibrationSample(design, cb, n_per_country, seed)
    countries = sample.countries
    ct = design["country_index_targets"]
    f_init = {**{d: 1.3 for d in DEMOGRAPHICS}, **{k: 2.0 for k in PREDICTOR_INDEXES}}
    params = {
        "demographic_moments": sample.moments,
        "rho_gov": {c: design["latent"]["correlations"]["gov_gov_start"] for c in countries},
        "loadings": {"individual": 1.0, "collective": 1.5, "efficacy": 1.9,
                     "gov_performance": 1.9, "gov_information": 1.9, "gov_consultation": 1.9},
        "outcome_means": {o: {c: 0.0 for c in countries} for o in OUTCOMES},
        "slopes": {o: {c: {k: float(f_init[k] * b) for k, b in
                           zip(SLOPE_NAMES, targets["betas"][(o, c)], strict=True)}
                       for c in countries} for o in OUTCOMES},
        "residual_variance": {o: {c: 0.5 for c in countries} for o in OUTCOMES},
    }
    _residual_variances(design, params, cb, sample)

    def attitude_loadings(rounds: int) -> dict:
        for _ in range(rounds):
            st = fast_statistics(design, params, cb, sample)
            for k in PREDICTOR_INDEXES:
                params["loadings"][k] *= np.sqrt(_odds(targets["alpha"][k]) / _odds(st["alpha"][k]))
        return st

    # 0. attitude loadings -> alphas
    st = attitude_loadings(8)
    log.info("attitudes: %s", {k: round(st["alpha"][k], 3) for k in PREDICTOR_INDEXES})

    # 1. government correlation per country -> implied R-squared of both tables
    top = design["latent"]["correlations"]["gov_gov_max"]
    grid = np.round(np.arange(0.0, top + 1e-9, 0.05), 3)
    loss = {c: [] for c in countries}
    for rho in grid:
        for c in countries:
            params["rho_gov"][c] = float(rho)
        st = fast_statistics(design, params, cb, sample)
        for c in countries:
            R = st["predictor_corr"][c]
            loss[c].append(sum((targets["betas"][(o, c)] @ R @ targets["betas"][(o, c)]
                                - targets["r2"][(o, c)]) ** 2 for o in OUTCOMES))
    for c in countries:
        params["rho_gov"][c] = float(grid[int(np.argmin(loss[c]))])
    st = attitude_loadings(4)
    log.info("rho_gov: %s; alphas %s", params["rho_gov"],
             {k: round(st["alpha"][k], 3) for k in PREDICTOR_INDEXES})

    def outcome_round(st: dict) -> None:
        for o in OUTCOMES:
            params["loadings"][o] *= np.sqrt(_odds(targets["alpha"][o]) / _odds(st["alpha"][o]))
            slope = 12.0 if o == "individual" else 20.0
            for c in countries:
                params["outcome_means"][o][c] += (ct[o][c] - st["means"][(o, c)]) / slope

    def set_slopes(o: str, c: str, vec: np.ndarray) -> None:
        params["slopes"][o][c] = {k: float(v) for k, v in zip(SLOPE_NAMES, vec, strict=True)}

    def slope_vec(o: str, c: str) -> np.ndarray:
        return np.array([params["slopes"][o][c][k] for k in SLOPE_NAMES])

    def evaluate() -> dict:
        _residual_variances(design, params, cb, sample)
        return fast_statistics(design, params, cb, sample)

    # 2a. plain fixed-point rounds to get close
    for it in range(4):
        st = evaluate()
        outcome_round(st)
        for o in OUTCOMES:
            for c in countries:
                gap = targets["betas"][(o, c)] - st["betas"][(o, c)]
                set_slopes(o, c, slope_vec(o, c) + np.array([f_init[k] for k in SLOPE_NAMES]) * gap)
        log.info("fixed-point %d: max |beta gap| %.4f", it, _max_gap(st, targets))

    # 2b. Newton steps with a finite-difference Jacobian (recomputed half way)
    for step in range(newton_steps):
        if step in (0, newton_steps // 2):
            base = evaluate()
            J = {key: np.zeros((len(SLOPE_NAMES), len(SLOPE_NAMES))) for key in base["betas"]}
            delta = 0.05
            saved = copy.deepcopy(params["slopes"])
            for k, name in enumerate(SLOPE_NAMES):
                for o in OUTCOMES:
                    for c in countries:
                        params["slopes"][o][c][name] += delta
                pert = evaluate()
                for key in J:
                    J[key][:, k] = (pert["betas"][key] - base["betas"][key]) / delta
                params["slopes"] = copy.deepcopy(saved)
        st = evaluate()
        outcome_round(st)
        for o in OUTCOMES:
            for c in countries:
                gap = targets["betas"][(o, c)] - st["betas"][(o, c)]
                set_slopes(o, c, slope_vec(o, c) + np.linalg.solve(J[(o, c)], gap))
        log.info("newton %d: max |beta gap| %.4f", step, _max_gap(st, targets))

    st = evaluate()
    params["thresholds"] = st["thresholds"]
    params["calibration"] = {
        "n_per_country": n_per_country, "seed": seed,
        "max_abs_beta_gap": round(_max_gap(st, targets), 4),
        "command": "python -m coprod_bayes.survey.calibrate",
    }
    return _plain(params)


def _max_gap(st: dict, targets: dict) -> float:
    return float(max(np.abs(targets["betas"][k] - st["betas"][k]).max() for k in targets["betas"]))


def _plain(obj):
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return round(float(obj), 6)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def params_path(codebook: str = "eu5_2008") -> Path:
    """Where the package keeps a wave's calibrated parameters."""
    return Path(str(resources.files("coprod_bayes.survey") / "data" / f"{codebook}_params.yaml"))


def main(argv: list[str] | None = None) -> None:
    """Refit and write the calibrated parameters."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codebook", default="eu5_2008")
    parser.add_argument("--n-per-country", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=20080401)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    params = calibrate(args.codebook, args.n_per_country, args.seed)
    out = args.out or params_path(args.codebook)
    header = (f"# Calibrated parameters of the {args.codebook} simulator. Generated by\n"
              f"#   python -m coprod_bayes.survey.calibrate --n-per-country {args.n_per_country}"
              f" --seed {args.seed}\n# Do not edit by hand; edit the design file and rerun.\n")
    out.write_text(header + yaml.safe_dump(params, sort_keys=False, width=100), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
