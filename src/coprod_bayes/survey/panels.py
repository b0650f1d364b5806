"""The simulator of the 2011 UK citizens' panels with randomised nudges (codebook
``uk_panels_2011``; the model is written out in ``data/uk_panels_2011_design.yaml``).

Shared items (the same column name as in ``eu5_2008``) keep the 2008 simulator's loadings and
thresholds, so they measure the same latent variables on the same scale; the nudges shift
the latent individual and collective co-production by small known amounts that differ by
local area. ``truth`` holds every generating value and, for the index-scale models, the
expected index of every area x arm (computed on a large simulated population with common
random numbers, so the contrasts carry almost no Monte Carlo error).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import SurveyDataError
from .codebook import Codebook, load_codebook
from .survey import Survey

__all__ = ["simulate_panels", "ARMS", "panel_item_parameters", "expected_indexes"]

NAME = "uk_panels_2011"
DEMOGRAPHICS = ["age", "female", "educated", "inactive"]
OUTCOMES = ["individual", "collective"]
#: The four arms of the 2x2 design: (nudge_a, nudge_b).
ARMS = {"none": (0, 0), "A only": (1, 0), "B only": (0, 1), "A and B": (1, 1)}


def _design() -> dict:
    from .simulate import load_design

    return load_design(NAME)


def panel_item_parameters(design: dict, codebook: Codebook) -> dict[str, dict[str, Any]]:
    """Loading and thresholds of every item: shared items from the 2008 simulator, new
    items and the five-point volunteering items from the 2011 design."""
    from .simulate import item_loadings, load_design, load_params

    cb08 = load_codebook("eu5_2008")
    d08, p08 = load_design("eu5_2008"), load_params("eu5_2008")
    lam08 = dict(zip(cb08.item_columns, item_loadings(d08, p08, cb08), strict=True))
    out = {}
    for it in codebook.items:
        if it.column in design["new_items"]:
            new = design["new_items"][it.column]
            out[it.column] = {"loading": float(new["loading"]),
                              "thresholds": [float(t) for t in new["thresholds"]]}
            continue
        if it.column not in lam08:
            raise SurveyDataError(f"{NAME} simulator: item {it.column!r} is neither a 2008 item "
                                  "nor in the design's new_items")
        tau = [float(t) for t in p08["thresholds"][it.column]]
        if it.scale.n_categories == len(tau) + 2:  # one more category at the top
            tau.append(tau[-1] + float(design["volunteer5_top_threshold"]))
        if it.scale.n_categories != len(tau) + 1:
            raise SurveyDataError(f"{NAME} simulator: item {it.column!r} has "
                                  f"{it.scale.n_categories} categories but {len(tau)} thresholds")
        out[it.column] = {"loading": float(lam08[it.column]), "thresholds": tau}
    return out


def _demographics(spec: dict, n: int, rng: np.random.Generator, lo: float, hi: float):
    age = np.clip(np.round(spec["age_mean"] + spec["age_sd"] * rng.standard_normal(n)), lo, hi)
    female = (rng.random(n) < spec["female"]).astype(float)
    educated = (rng.random(n) < spec["educated"]).astype(float)
    # outside the labour force: more likely from 63 on
    p_in = np.clip(spec["inactive"] + 0.45 * (age >= 63) - 0.12, 0.02, 0.98)
    inactive = (rng.random(n) < p_in).astype(float)
    return {"age": age, "female": female, "educated": educated, "inactive": inactive}


def _latent(design: dict, area: str, demo: dict, arms: np.ndarray, rng: np.random.Generator,
            nudges: dict) -> dict[str, np.ndarray]:
    """Latent predictors and outcomes of one area's respondents (dict of (n,) arrays);
    ``arms`` (n, 2) is (nudge_a, nudge_b)."""
    lat = design["latent"]
    preds = lat["predictors"]
    z = np.column_stack([(demo[d] - demo[d].mean()) / demo[d].std() for d in DEMOGRAPHICS])
    R = np.eye(len(preds))
    for key, v in lat["correlations"].items():
        a, b = key.split("_", 1)
        i, j = preds.index(a), preds.index(b)
        R[i, j] = R[j, i] = v
    n = len(z)
    F = rng.standard_normal((n, len(preds))) @ np.linalg.cholesky(R).T
    out: dict[str, np.ndarray] = {}
    for k, p in enumerate(preds):
        g = np.array([lat["on_demographics"][p][d] for d in DEMOGRAPHICS])
        out[p] = lat["means"][p][area] + F[:, k] + z @ g
    A, B = arms[:, 0], arms[:, 1]
    for o in OUTCOMES:
        spec = lat["outcomes"][o]
        sl = spec["slopes"]
        s = float(spec["residual_sd"])
        nud = nudges[o]
        shift = s * (nud["nudge_a"][area] * A + nud["nudge_b"][area] * B
                     + nud["interaction"][area] * A * B)
        out[o] = (spec["mean"][area] + sum(sl[p] * out[p] for p in preds)
                  + z @ np.array([sl[d] for d in DEMOGRAPHICS]) + shift
                  + s * rng.standard_normal(n))
    return out


def _codes(codebook: Codebook, items: dict, latent: dict, rng: np.random.Generator,
           shifts: dict[str, float], only: list | None = None) -> np.ndarray:
    cols = []
    for it in only if only is not None else codebook.items:
        p = items[it.column]
        ystar = p["loading"] * latent[it.construct] + rng.logistic(size=len(latent[it.construct]))
        tau = np.asarray(p["thresholds"]) + shifts.get(it.column, 0.0)
        cols.append(np.searchsorted(tau, ystar).astype(float))
    return np.column_stack(cols)


def _assign(n: int, rng: np.random.Generator) -> np.ndarray:
    """Complete randomisation to the four arms, as equal as n allows."""
    arms = np.array(list(ARMS.values()))
    return arms[rng.permutation(np.arange(n) % 4)]


def _nudges(design: dict, nudges: dict | None) -> dict:
    base = design["nudges"]
    if nudges is None:
        return base
    out = {o: {k: dict(v) for k, v in base[o].items()} for o in OUTCOMES}
    for o, by in nudges.items():
        if o not in OUTCOMES:
            raise SurveyDataError(f"nudges: unknown outcome {o!r}; outcomes {OUTCOMES}")
        for term, areas in by.items():
            if term not in out[o]:
                raise SurveyDataError(f"nudges[{o!r}]: unknown term {term!r}; terms "
                                      f"{list(out[o])}")
            unknown = sorted(set(areas) - set(design["areas"]))
            if unknown:
                raise SurveyDataError(f"nudges[{o!r}][{term!r}]: unknown areas {unknown}")
            out[o][term].update({a: float(v) for a, v in areas.items()})
    return out


def expected_indexes(design: dict, codebook: Codebook, items: dict, nudges: dict,
                     n: int = 200_000, seed: int = 1) -> pd.DataFrame:
    """The expected 0-100 index of each outcome in every area x arm (no item non-response):
    one large population per area, the same random numbers in every arm (so contrasts
    between arms carry almost no Monte Carlo error)."""
    rows = []
    lo, hi = design["demographics"]["age_range"]
    for a_i, area in enumerate(design["areas"]):
        # one population per area; an arm only adds its shift to the latent outcomes, so
        # the population is drawn once and the item noise replayed from the same state
        rng = np.random.default_rng([seed, a_i])
        demo = _demographics(design["areas"][area], n, rng, lo, hi)
        base = _latent(design, area, demo, np.zeros((n, 2)), rng, nudges)
        state = rng.bit_generator.state
        for arm, (A, B) in ARMS.items():
            rng.bit_generator.state = state
            latent = dict(base)
            for o in OUTCOMES:
                nud, s = nudges[o], float(design["latent"]["outcomes"][o]["residual_sd"])
                latent[o] = base[o] + s * (nud["nudge_a"][area] * A + nud["nudge_b"][area] * B
                                           + nud["interaction"][area] * A * B)
            for o in OUTCOMES:
                own = codebook.items_of(o)
                codes = _codes(codebook, items, latent, rng, {}, only=own)
                span = np.array([it.scale.max - it.scale.min for it in own])
                score = 100 * np.mean(codes / span, axis=1)
                rows.append({"outcome": o, "area": area, "arm": arm, "nudge_a": A,
                             "nudge_b": B, "index": float(score.mean()),
                             "index_sd": float(score.std())})
    return pd.DataFrame(rows)


def simulate_panels(n_per_area: int | dict[str, int] | None = None, seed: int = 0,
                    nudges: dict | None = None, nonresponse: bool = True,
                    noninvariance: dict | None = None, id_start: int = 100_001,
                    truth_population: int = 200_000) -> Survey:
    """Simulate the 2011 UK panels (see the module docstring and the design file).

    Parameters
    ----------
    n_per_area : int or dict, optional
        Respondents per local area (LB, MB, LT, RA); by default the design's 620, 540, 480
        and 410 (2,050 in all).
    seed : int, default 0
    nudges : dict, optional
        Effects to plant instead of the design's, ``{outcome: {term: {area: value}}}`` with
        terms ``nudge_a``, ``nudge_b``, ``interaction``, in residual SDs of the latent outcome.
    nonresponse : bool, default True
        Scattered item non-response (at most one item per construct) and age refusals.
    noninvariance : dict, optional
        ``{item: shift}``: shift every threshold of a shared item in this wave by so many
        logits (an item that behaves differently in 2011 than in 2008).
    id_start : int, default 100001
        First respondent id (2008 ids run from 1 to 4,951, so the waves combine).
    truth_population : int, default 200000
        Respondents per area x arm for the expected indexes in ``truth["arm_indexes"]``.

    Returns
    -------
    Survey
        Validated against ``uk_panels_2011``; ``truth`` holds the design, the planted
        nudge effects (``truth["nudges"]``), the item parameters, every respondent's latent
        values and the expected index of each area x arm.

    Examples
    --------
    >>> s = simulate_panels(n_per_area=100, seed=1, truth_population=2000)
    >>> s.n_respondents, sorted(s.frame["area"].unique())
    (400, ['LB', 'LT', 'MB', 'RA'])
    """
    cb = load_codebook(NAME)
    design = _design()
    areas = list(cb.group("area").levels)
    if isinstance(n_per_area, dict):
        unknown = sorted(set(n_per_area) - set(areas))
        if unknown:
            raise SurveyDataError(f"n_per_area names unknown areas {unknown}; known: {areas}")
        n_by = {a: int(n_per_area.get(a, 0)) for a in areas}
    elif n_per_area is None:
        n_by = {a: int(design["areas"][a]["n"]) for a in areas}
    else:
        n_by = {a: int(n_per_area) for a in areas}
    small = [a for a in areas if n_by[a] < 8]
    if small:
        raise SurveyDataError(f"n_per_area: areas {small} need at least 8 respondents (two "
                              "per arm)")
    shifts = dict(noninvariance or {})
    bad = [c for c in shifts if c not in cb.item_columns]
    if bad:
        raise SurveyDataError(f"noninvariance: {bad} are not items of {NAME}")
    nud = _nudges(design, nudges)
    items = panel_item_parameters(design, cb)
    rng = np.random.default_rng([seed, 2011])
    lo, hi = design["demographics"]["age_range"]
    nr = design["nonresponse"]
    frames, latents = [], []
    next_id = id_start
    for area in areas:
        n = n_by[area]
        demo = _demographics(design["areas"][area], n, rng, lo, hi)
        arms = _assign(n, rng).astype(float)
        latent = _latent(design, area, demo, arms, rng, nud)
        codes = _codes(cb, items, latent, rng, shifts)
        age = demo["age"].copy()
        if nonresponse:
            constructs = [it.construct for it in cb.items]
            for con in dict.fromkeys(constructs):
                idx = [j for j, c in enumerate(constructs) if c == con]
                hit = rng.random(n) < nr["item_rate"] * len(idx)
                which = rng.choice(idx, size=n)
                refused = rng.random(n) < nr["refused_share"]
                codes[hit, which[hit]] = np.where(refused[hit], 9, 8)
            age = np.where(rng.random(n) < nr["age_refused"], 999, age)
        ids = np.arange(next_id, next_id + n)
        next_id += n
        frame = pd.DataFrame({"respondent_id": ids, "area": area,
                              "nudge_a": arms[:, 0].astype(int), "nudge_b": arms[:, 1].astype(int),
                              "age": age.astype(int)})
        for d in DEMOGRAPHICS[1:]:
            frame[d] = demo[d].astype(int)
        for j, it in enumerate(cb.items):
            frame[it.column] = codes[:, j].astype(int)
        frame["wave"] = cb.wave
        frames.append(frame)
        latents.append(pd.DataFrame({"respondent_id": ids, "area": area, **latent}))
    frame = pd.concat(frames, ignore_index=True)
    truth = {"design": design, "nudges": nud, "items": items, "seed": seed,
             "latent": pd.concat(latents, ignore_index=True),
             "noninvariance": shifts,
             "arm_indexes": expected_indexes(design, cb, items, nud, n=truth_population)}
    return Survey.from_frame(frame, cb, source=f"simulated ({NAME}, seed={seed})", truth=truth)
