"""The calibrated simulator of the 2008 five-country wave.

The generating model is written out in ``data/eu5_2008_design.yaml``: demographics, person
and area-level latent attitudes (efficacy, government performance/information/consultation,
conditions), the a-path conditions -> efficacy, latent individual and collective
co-production per policy area with a respondent effect, ordinal items through thresholds
(ordered logit), item non-response and survey weights. The design file holds the hand-chosen
inputs; ``data/eu5_2008_params.yaml`` holds the parameters that
:mod:`coprod_bayes.survey.calibrate` fitted to the published figures.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ..errors import SurveyDataError
from .codebook import Codebook, load_codebook
from .survey import Survey

__all__ = ["simulate", "load_design", "load_params", "FACTORS", "DEMOGRAPHICS", "OUTCOMES"]

#: Latent predictors, in the order of the factor correlation matrix.
FACTORS = ["efficacy", "gov_performance", "gov_information", "gov_consultation", "conditions"]
GOV = FACTORS[1:4]
DEMOGRAPHICS = ["age", "female", "educated", "inactive", "urban"]
OUTCOMES = ["individual", "collective"]
SLOPE_NAMES = [*DEMOGRAPHICS, "efficacy", *GOV]


def _data_yaml(name: str) -> dict:
    res = resources.files("coprod_bayes.survey") / "data" / name
    if not res.is_file():
        raise SurveyDataError(f"no simulator file {name!r} in the package")
    return yaml.safe_load(res.read_text(encoding="utf-8"))


@cache
def _cached(name: str) -> dict:
    return _data_yaml(name)


def load_design(codebook: str = "eu5_2008") -> dict[str, Any]:
    """The simulator's hand-chosen inputs for a built-in wave (a fresh copy)."""
    import copy

    return copy.deepcopy(_cached(f"{codebook}_design.yaml"))


def load_params(codebook: str = "eu5_2008") -> dict[str, Any]:
    """The simulator's calibrated parameters for a built-in wave (a fresh copy)."""
    import copy

    return copy.deepcopy(_cached(f"{codebook}_params.yaml"))


# ----------------------------------------------------------------------------- noise
def draw_noise(rng: np.random.Generator, n: int, n_items: int,
               n_areas: int) -> dict[str, np.ndarray]:
    """All random numbers one country's respondents need, drawn up front.

    Drawing them apart from the parameters gives common random numbers: the calibration
    evaluates every parameter value on the same draws, so its objective is smooth.
    """
    return {
        "age": rng.standard_normal(n),
        "female": rng.random(n),
        "inactive": rng.random(n),
        "educated": rng.random(n),
        "urban": rng.random(n),
        "weight": rng.standard_normal(n),
        "h": rng.standard_normal((n, len(FACTORS))),
        "u": rng.standard_normal((n, n_areas, len(FACTORS))),
        "r": rng.standard_normal((n, len(OUTCOMES))),
        "e": rng.standard_normal((n, n_areas, len(OUTCOMES))),
        "items": rng.logistic(size=(n, n_items)),
    }


# ----------------------------------------------------------------------------- pieces
def demographics(design: dict, country: str, noise: dict) -> dict[str, np.ndarray]:
    """Raw demographics of one country's respondents (age in years, 0/1 indicators)."""
    cd = design["countries"][country]
    dd = design["demographics"]
    lo, hi = dd["age_range"]
    age = np.clip(np.round(cd["age_mean"] + cd["age_sd"] * noise["age"]), lo, hi)
    female = (noise["female"] < cd["female"]).astype(float)
    il = dd["inactive_logit"]
    eta = (il["intercept"] + il["age_63_plus"] * (age >= 63) + il["age_under_25"] * (age < 25)
           + il["female"] * female)
    inactive = (noise["inactive"] < 1 / (1 + np.exp(-eta))).astype(float)
    base = np.log(cd["educated"] / (1 - cd["educated"]))
    eta = base + dd["educated_age_slope_logit"] * (age - cd["age_mean"])
    educated = (noise["educated"] < 1 / (1 + np.exp(-eta))).astype(float)
    urban = (noise["urban"] < cd["urban"]).astype(float)
    return {"age": age, "female": female, "educated": educated, "inactive": inactive,
            "urban": urban}


def standardise(demo: dict[str, np.ndarray], moments: dict[str, list[float]]) -> np.ndarray:
    """Demographics as z-scores with the country's population moments, columns DEMOGRAPHICS."""
    return np.column_stack([(demo[d] - moments[d][0]) / moments[d][1] for d in DEMOGRAPHICS])


def factor_correlation(design: dict, rho_gov: float) -> np.ndarray:
    """Correlation matrix of the person factors (and of the area parts), order FACTORS."""
    c = design["latent"]["correlations"]
    R = np.eye(len(FACTORS))
    ix = {f: i for i, f in enumerate(FACTORS)}

    def put(a: str, b: str, v: float) -> None:
        R[ix[a], ix[b]] = R[ix[b], ix[a]] = v

    for g in GOV:
        put("efficacy", g, c["efficacy_gov"])
        put("conditions", g, c[f"conditions_{g}"])
    put("efficacy", "conditions", c["efficacy_conditions"])
    for i, g in enumerate(GOV):
        for h in GOV[i + 1:]:
            put(g, h, rho_gov)
    if np.linalg.eigvalsh(R).min() <= 0:
        raise SurveyDataError(f"factor correlation with rho_gov={rho_gov} is not positive definite")
    return R


def latent_state(
    design: dict, params: dict, country: str, areas: list[str], noise: dict,
    demo: dict[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """Latent predictors (n, areas, FACTORS) and outcomes (n, areas, OUTCOMES) of one country.

    Returns ``z`` (standardised demographics), ``factors``, ``structural`` (the outcomes'
    predicted part, without mean) and ``outcomes``.
    """
    lat = design["latent"]
    z = standardise(demo, params["demographic_moments"][country])
    R = factor_correlation(design, params["rho_gov"][country])
    L = np.linalg.cholesky(R)
    h = noise["h"] @ L.T
    u = noise["u"] @ L.T
    s_c, s_a = lat["conditions_person_share"], lat["attitude_person_share"]
    ix = {f: i for i, f in enumerate(FACTORS)}
    means = lat["country_means"]
    g_eff = np.array([lat["efficacy_on_demographics"][d] for d in DEMOGRAPHICS])
    g_gov = np.array([lat["gov_on_demographics"][d] for d in DEMOGRAPHICS])
    n, n_areas = len(z), len(areas)
    F = np.empty((n, n_areas, len(FACTORS)))
    cond = (np.sqrt(s_c) * h[:, None, ix["conditions"]]
            + np.sqrt(1 - s_c) * u[:, :, ix["conditions"]])
    F[:, :, ix["conditions"]] = means["conditions"][country] + cond
    for g in GOV:
        F[:, :, ix[g]] = (means[g][country] + np.sqrt(s_a) * h[:, None, ix[g]]
                          + np.sqrt(1 - s_a) * u[:, :, ix[g]] + (z @ g_gov)[:, None])
    a = np.array([lat["a_path"][country][ar] for ar in areas])
    own = np.sqrt(s_a) * h[:, None, ix["efficacy"]] + np.sqrt(1 - s_a) * u[:, :, ix["efficacy"]]
    F[:, :, ix["efficacy"]] = (means["efficacy"][country] + a * cond + np.sqrt(1 - a**2) * own
                               + (z @ g_eff)[:, None])

    S = np.empty((n, n_areas, len(OUTCOMES)))
    Y = np.empty_like(S)
    share = lat["outcome_person_share"]
    rho_r = lat["outcome_person_correlation"]
    r = noise["r"] @ np.linalg.cholesky(np.array([[1, rho_r], [rho_r, 1]])).T
    for k, o in enumerate(OUTCOMES):
        sl = params["slopes"][o][country]
        b = sl["efficacy"] + np.array([lat["efficacy_slope_area_deviation"][o][ar] for ar in areas])
        c_dir = np.array([lat["direct_path"][o][country][ar] for ar in areas])
        gamma = np.array([sl[d] for d in DEMOGRAPHICS])
        S[:, :, k] = (b * (F[:, :, ix["efficacy"]] - means["efficacy"][country])
                      + sum(sl[g] * (F[:, :, ix[g]] - means[g][country]) for g in GOV)
                      + c_dir * (F[:, :, ix["conditions"]] - means["conditions"][country])
                      + (z @ gamma)[:, None])
        v = params["residual_variance"][o][country]
        Y[:, :, k] = (params["outcome_means"][o][country] + S[:, :, k]
                      + np.sqrt(share * v) * r[:, None, k]
                      + np.sqrt((1 - share) * v) * noise["e"][:, :, k])
    return {"z": z, "factors": F, "structural": S, "outcomes": Y}


def item_loadings(design: dict, params: dict, codebook: Codebook) -> np.ndarray:
    """Loading of every codebook item on its latent variable, in codebook order."""
    out = []
    position: dict[str, int] = {}
    for it in codebook.items:
        k = position.get(it.construct, 0)
        position[it.construct] = k + 1
        rel = design.get("relative_loadings", {}).get(it.construct)
        base = design.get("fixed_loadings", {}).get(it.construct)
        if base is None:
            base = params["loadings"][it.construct]
        out.append(base * (rel[k] if rel else 1.0))
    return np.array(out)


def item_latent_responses(
    design: dict, params: dict, codebook: Codebook, state: dict, noise: dict, country: str
) -> np.ndarray:
    """Latent responses y* (n, items): loading x latent + logistic error."""
    lam = item_loadings(design, params, codebook)
    areas = list(codebook.areas)
    cols = []
    for j, it in enumerate(codebook.items):
        a = areas.index(it.area)
        if it.construct in OUTCOMES:
            x = state["outcomes"][:, a, OUTCOMES.index(it.construct)]
        else:
            x = state["factors"][:, a, FACTORS.index(it.construct)]
        cols.append(lam[j] * x)
    return np.column_stack(cols) + noise["items"]


def responses(ystar: np.ndarray, thresholds: list[list[float]]) -> np.ndarray:
    """Ordinal codes 0..K-1: the number of thresholds below each latent response."""
    out = np.empty(ystar.shape)
    for j, tau in enumerate(thresholds):
        out[:, j] = np.searchsorted(np.asarray(tau), ystar[:, j])
    return out


# ----------------------------------------------------------------------------- public
def _n_by_country(design: dict, levels: list[str], n_per_country) -> dict[str, int]:
    if n_per_country is None:
        return {c: int(design["countries"][c]["n_surveyed"]) for c in levels}
    if isinstance(n_per_country, dict):
        unknown = sorted(set(n_per_country) - set(levels))
        if unknown:
            raise SurveyDataError(f"n_per_country names unknown countries {unknown}; "
                                  f"known: {levels}")
        out = {c: int(n_per_country.get(c, 0)) for c in levels}
        empty = [c for c in levels if out[c] <= 0]
        if empty:
            raise SurveyDataError(
                f"n_per_country gives no respondents to {empty}; every country of the "
                "codebook needs some (a survey with an empty group does not validate)"
            )
        return out
    return {c: int(n_per_country) for c in levels}


def _weights(design: dict, demo: dict, z_age: np.ndarray, noise: np.ndarray) -> np.ndarray:
    wl = design["demographics"]["weight_logit"]
    w = np.exp(wl["female"] * demo["female"] + wl["age_z"] * z_age + wl["noise_sd"] * noise)
    return w / w.mean()


def _nonresponse(
    design: dict, codebook: Codebook, codes: np.ndarray, demo: dict, z: np.ndarray,
    n_incomplete: int, rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Set missing-value codes: scattered answers that leave every index computable, plus
    exactly ``n_incomplete`` respondents made incomplete for Tables 2-3."""
    nr = design["nonresponse"]
    n = codes.shape[0]
    missing = np.zeros(codes.shape, bool)
    constructs = [it.construct for it in codebook.items]
    for con in dict.fromkeys(constructs):
        idx = [j for j, c in enumerate(constructs) if c == con]
        rate = nr["item_rates"].get(con, 0.0)
        draw = rng.random((n, len(idx))) < rate
        # at most ceil(k/2) - 1 missing, so the index (>= half answered) always exists
        cap = max(0, int(np.ceil(len(idx) / 2)) - 1)
        order = np.argsort(rng.random((n, len(idx))), axis=1)
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(len(idx))[None, :].repeat(n, 0), axis=1)
        draw &= rank < cap
        missing[:, idx] = draw
    age_missing = np.zeros(n, bool)
    if n_incomplete > 0:
        prop = nr["incomplete_propensity"]
        score = prop["age_z"] * z[:, 0] + prop["educated"] * demo["educated"]
        p = np.exp(score)
        chosen = rng.choice(n, size=n_incomplete, replace=False, p=p / p.sum())
        reasons = list(nr["incomplete_reasons"])
        probs = np.array([nr["incomplete_reasons"][r] for r in reasons], float)
        why = rng.choice(reasons, size=n_incomplete, p=probs / probs.sum())
        for i, reason in zip(chosen, why, strict=True):
            if reason == "age_refused":
                age_missing[i] = True
                continue
            idx = [j for j, c in enumerate(constructs) if c == reason]
            k = len(idx) - int(np.ceil(len(idx) / 2)) + 1  # fewest missing that lose the index
            k = rng.integers(k, len(idx) + 1)
            missing[i, rng.choice(idx, size=k, replace=False)] = True
    return missing, age_missing


def _planted(design: dict, cb: Codebook, levels: list[str], noninvariance) -> dict:
    """The threshold shifts (item -> country -> logits) to plant; checked against the
    codebook."""
    if noninvariance is False or noninvariance is None:
        return {}
    plant = design.get("noninvariance", {}) if noninvariance is True else noninvariance
    out = {}
    for col, by in plant.items():
        if col not in cb.item_columns:
            raise SurveyDataError(f"noninvariance: {col!r} is not an item of {cb.name}")
        unknown = sorted(set(by) - set(levels))
        if unknown:
            raise SurveyDataError(f"noninvariance[{col!r}]: unknown countries {unknown}")
        out[col] = {c: float(v) for c, v in by.items()}
    return out


def simulate(
    codebook: str = "eu5_2008", n_per_country: int | dict[str, int] | None = None,
    seed: int = 0, nonresponse: bool = True, noninvariance: bool | dict = False,
    person_level: bool = False, **options,
) -> Survey:
    """Simulate a survey wave from the calibrated generating model.

    Parameters
    ----------
    codebook : str, default "eu5_2008"
        A built-in wave with a calibrated simulator.
    n_per_country : int or dict, optional
        Respondents per country; by default the published sizes (4,951 in all), for which
        the complete cases of Tables 2-3 are exactly the published n (4,707).
    seed : int, default 0
        Seed of the random generator: the same arguments give the same survey.
    nonresponse : bool, default True
        Add item non-response ("don't know", "refused" codes) and the incomplete cases.
    noninvariance : bool or dict, default False
        Plant measurement non-invariance: shift all thresholds of an item in a country by
        so many logits (positive: the item is answered lower there at the same latent
        value). ``True`` plants the design file's ``noninvariance`` block, a dict
        ``{item: {country: shift}}`` its own. The default keeps every item invariant (the
        calibration to the published figures assumes it). ``truth["noninvariance"]`` lists
        what was planted.
    person_level : bool, default False
        Generate every construct as one person-level latent variable: no area-specific
        parts (all person shares 1) and the a-path, direct path and efficacy slope of each
        country its average over the policy areas. This is the model class of the latent
        specs (one factor per construct measured by its items in all areas), so that their
        recovery of the truth can be checked (:func:`coprod_bayes.recovery.latent_truth`).
        By default the constructs are area-specific, as calibrated to the published
        figures; a one-factor-per-construct model is then an approximation.
    **options
        For ``codebook="uk_panels_2011"``: the options of
        :func:`coprod_bayes.survey.panels.simulate_panels` (``n_per_area``, ``nudges``,
        ``id_start``, ``truth_population``); ``noninvariance`` is then ``{item: shift}``.

    Returns
    -------
    Survey
        Validated against the codebook; ``.truth`` holds the design, the calibrated
        parameters, the per-context paths and every respondent's latent values.

    Raises
    ------
    SurveyDataError
        If ``codebook`` is unknown or has no calibrated simulator; ``n_per_country`` names
        an unknown country or gives a country no respondents; ``noninvariance`` names an
        unknown item or country; an option is unknown; or, for the 2011 panels,
        ``n_per_country`` or ``person_level`` is given.

    Examples
    --------
    >>> import coprod_bayes as cb
    >>> s = cb.simulate(n_per_country=100, seed=1)
    >>> s.n_respondents, sorted(s.truth["slopes"])
    (500, ['collective', 'individual'])
    """
    cb = load_codebook(codebook)
    if cb.name == "uk_panels_2011":
        from .panels import simulate_panels

        if n_per_country is not None or person_level:
            raise SurveyDataError("the 2011 panels have local areas, not countries, and "
                                  "person-level constructs already: use n_per_area=..., not "
                                  "n_per_country or person_level")
        return simulate_panels(seed=seed, nonresponse=nonresponse,
                               noninvariance=noninvariance or None, **options)
    if options:
        raise SurveyDataError(f"simulate({cb.name!r}): unknown option(s) {sorted(options)}")
    design = load_design(cb.name)
    params = load_params(cb.name)
    levels = list(cb.group("country").levels)
    if person_level:
        _person_level(design)
    n_by = _n_by_country(design, levels, n_per_country)
    rng = np.random.default_rng(seed)
    areas = list(cb.areas)
    planted = _planted(design, cb, levels, noninvariance)
    frames, latents = [], []
    next_id = 1
    for country in levels:
        n = n_by[country]
        if n == 0:
            continue
        noise = draw_noise(rng, n, len(cb.items), len(areas))
        demo = demographics(design, country, noise)
        state = latent_state(design, params, country, areas, noise, demo)
        ystar = item_latent_responses(design, params, cb, state, noise, country)
        codes = responses(ystar, [np.asarray(params["thresholds"][it.column])
                                  + planted.get(it.column, {}).get(country, 0.0)
                                  for it in cb.items])
        demo_out = {k: v.copy() for k, v in demo.items()}
        if nonresponse:
            cd = design["countries"][country]
            n_inc = round(n * (cd["n_surveyed"] - cd["n_complete"]) / cd["n_surveyed"])
            missing, age_missing = _nonresponse(design, cb, codes, demo, state["z"], n_inc, rng)
            refused = rng.random(codes.shape) < design["nonresponse"]["refused_share"]
            codes = np.where(missing, np.where(refused, 9, 8), codes)
            demo_out["age"] = np.where(age_missing, 999, demo_out["age"])
        ids = np.arange(next_id, next_id + n)
        next_id += n
        frame = pd.DataFrame({"respondent_id": ids, "country": country,
                              "weight": _weights(design, demo, state["z"][:, 0], noise["weight"])})
        for d in DEMOGRAPHICS:
            frame[d] = demo_out[d].astype(int)
        for j, it in enumerate(cb.items):
            frame[it.column] = codes[:, j].astype(int)
        frame["wave"] = cb.wave
        frames.append(frame)
        for a, area in enumerate(areas):
            lat = {"respondent_id": ids, "country": country, "area": area}
            for f, name in enumerate(FACTORS):
                lat[name] = state["factors"][:, a, f]
            for k, name in enumerate(OUTCOMES):
                lat[name] = state["outcomes"][:, a, k]
            latents.append(pd.DataFrame(lat))
    frame = pd.concat(frames, ignore_index=True)
    truth = _truth(design, params, cb, levels)
    truth["latent"] = pd.concat(latents, ignore_index=True)
    truth["seed"] = seed
    truth["noninvariance"] = planted
    truth["person_level"] = bool(person_level)
    return Survey.from_frame(frame, cb, source=f"simulated ({cb.name}, seed={seed})", truth=truth)


def _person_level(design: dict) -> None:
    """Make every construct one person-level latent variable (in place): see
    :func:`simulate`'s ``person_level``."""
    lat = design["latent"]
    for share in ("conditions_person_share", "attitude_person_share", "outcome_person_share"):
        lat[share] = 1.0
    for by_area in lat["a_path"].values():
        avg = float(np.mean(list(by_area.values())))
        by_area.update({a: avg for a in by_area})
    for by_country in lat["direct_path"].values():
        for by_area in by_country.values():
            avg = float(np.mean(list(by_area.values())))
            by_area.update({a: avg for a in by_area})
    for by_area in lat["efficacy_slope_area_deviation"].values():
        by_area.update({a: 0.0 for a in by_area})


def _truth(design: dict, params: dict, cb: Codebook, levels: list[str]) -> dict[str, Any]:
    lat = design["latent"]
    areas = list(cb.areas)
    paths = []
    for o in OUTCOMES:
        for c in levels:
            for ar in areas:
                paths.append({
                    "outcome": o, "country": c, "area": ar,
                    "a": lat["a_path"][c][ar],
                    "b": params["slopes"][o][c]["efficacy"]
                    + lat["efficacy_slope_area_deviation"][o][ar],
                    "direct": lat["direct_path"][o][c][ar],
                })
    paths = pd.DataFrame(paths)
    paths["indirect"] = paths["a"] * paths["b"]
    paths["total"] = paths["direct"] + paths["indirect"]
    return {
        "design": design, "params": params, "slopes": params["slopes"],
        "loadings": dict(zip(cb.item_columns, item_loadings(design, params, cb), strict=True)),
        "thresholds": params["thresholds"], "outcome_means": params["outcome_means"],
        "factor_correlation": {
            c: pd.DataFrame(factor_correlation(design, params["rho_gov"][c]), index=FACTORS,
                            columns=FACTORS) for c in levels},
        "paths": paths,
    }
