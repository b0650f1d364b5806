"""How close a survey comes to the published figures of the 2008 wave.

Every number here is computed with :mod:`coprod_bayes.classical` (the same code a user runs on
real data), not with the calibration's own fast statistics, so the report is an independent
check of the calibration.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..classical.indexes import index_scores
from ..classical.means import group_means, weighted_mean
from ..classical.ols import ols_table
from ..classical.reliability import alphas
from ..published import published_betas, published_figures
from .survey import Survey

__all__ = ["calibration_report", "TOLERANCES"]

#: Tolerances at large n (issue 3): index means 1.5 points, SDs 2, alphas 0.04, each beta
#: 0.05 and their mean 0.02, R-squared 0.03. Area and country co-production scores (no
#: tolerance given) use 2 points; the interactive items' "about 1.0" uses 0.15.
TOLERANCES = {"mean": 1.5, "sd": 2.0, "alpha": 0.04, "beta": 0.05, "beta_mean": 0.02,
              "r2": 0.03, "score": 2.0, "about": 0.15}

_FIG1 = {  # Figure 1 bands: item -> (relation, bound)
    "individual_safety_1": (">=", 1.75), "individual_environment_1": (">=", 1.75),
    "individual_environment_2": (">=", 1.75), "individual_environment_3": ("<", 1.5),
    "individual_health_1": ("<", 1.5), "individual_health_2": ("<", 1.5),
    "individual_safety_2": ("~", 1.0), "individual_safety_3": ("~", 1.0),
    "individual_health_4": ("~", 1.0), "individual_environment_4": ("~", 1.0),
    "collective_safety_1": ("<", 0.5), "collective_environment_1": ("<", 0.5),
    "collective_health_1": ("<", 0.5), "individual_safety_4": ("<", 0.5),
}


def _row(target, group, published, simulated, tol, met, kind):
    return {"kind": kind, "target": target, "group": group, "published": published,
            "simulated": simulated, "tolerance": tol, "met": bool(met)}


def _ordering(means: dict[str, float], chain: list) -> bool:
    """``chain`` is a list of levels or tuples of tied levels, highest first."""
    groups = [g if isinstance(g, tuple) else (g,) for g in chain]
    return all(min(means[a] for a in hi) > max(means[b] for b in lo)
               for hi, lo in zip(groups, groups[1:], strict=False))


def calibration_report(survey: Survey, complete_n: bool = True) -> pd.DataFrame:
    """Every published figure of the 2008 wave beside its value in ``survey``.

    Parameters
    ----------
    survey : Survey
        A survey with the ``eu5_2008`` codebook (simulated or real).
    complete_n : bool, default True
        Include the complete-case n per country (meaningful at the published sample sizes).

    Returns
    -------
    DataFrame
        ``kind``, ``target``, ``group``, ``published``, ``simulated``, ``tolerance``, ``met``.
    """
    pub = published_figures("eu5_2008")
    w = survey.weights().to_numpy()
    rows = []
    for name in ("individual", "collective"):
        x = index_scores(survey, name).to_numpy()
        m, _, _ = weighted_mean(x, w)
        ok = np.isfinite(x)
        sd = float(np.sqrt(np.average((x[ok] - m) ** 2, weights=w[ok])))
        t = pub["indexes"][name]
        rows.append(_row(f"{name} index mean", "all", t["mean"], m, TOLERANCES["mean"],
                         abs(m - t["mean"]) <= TOLERANCES["mean"], "index"))
        rows.append(_row(f"{name} index SD", "all", t["sd"], sd, TOLERANCES["sd"],
                         abs(sd - t["sd"]) <= TOLERANCES["sd"], "index"))
    al = alphas(survey, list(pub["indexes"])).set_index("index")["alpha"]
    for name, t in pub["indexes"].items():
        rows.append(_row(f"alpha {name}", "all", t["alpha"], al[name], TOLERANCES["alpha"],
                         abs(al[name] - t["alpha"]) <= TOLERANCES["alpha"], "alpha"))
    means = survey.frame[list(_FIG1)].mean()
    for col, (rel, bound) in _FIG1.items():
        v = float(means[col])
        met = {">=": v >= bound, "<": v < bound, "~": abs(v - bound) <= TOLERANCES["about"]}[rel]
        rows.append(_row(f"item mean {col} {rel} {bound}", "all", bound, v,
                         TOLERANCES["about"] if rel == "~" else 0.0, met, "item"))

    cm = {name: group_means(survey, name).set_index("country")["mean"].to_dict()
          for name in ("individual", "collective", "coproduction")}
    orders = {
        "individual": ["GB", "DE", "FR", ("CZ", "DK")],
        "collective": ["CZ", "DE", "DK", "GB", "FR"],
    }
    texts = pub["country_ordering"]
    for name, chain in orders.items():
        shown = " > ".join("/".join(g) if isinstance(g, tuple) else g for g in chain)
        sim = " > ".join(sorted(cm[name], key=cm[name].get, reverse=True))
        rows.append(_row(f"ordering {name}", shown, texts[name], sim, 0.0,
                         _ordering(cm[name], chain), "ordering"))
    cs = cm["coproduction"]
    for country, score in pub["country_index_scores"].items():
        rows.append(_row("co-production index", country, score, cs[country],
                         TOLERANCES["score"], abs(cs[country] - score) <= TOLERANCES["score"],
                         "score"))
    rows.append(_row("co-production index highest / lowest", "GB / DK", "GB / DK",
                     f"{max(cs, key=cs.get)} / {min(cs, key=cs.get)}", 0.0,
                     max(cs, key=cs.get) == "GB" and min(cs, key=cs.get) == "DK", "ordering"))
    for area in survey.codebook.areas:
        m, _, _ = weighted_mean(index_scores(survey, "coproduction", area).to_numpy(), w)
        t = pub["sector_index_scores"][area]
        rows.append(_row("area co-production index", area, t, m, TOLERANCES["score"],
                         abs(m - t) <= TOLERANCES["score"], "score"))

    for table, outcome in (("table2_individual", "individual"),
                           ("table3_collective", "collective")):
        ref = published_betas(table)
        sim = ols_table(survey, outcome, list(pub["predictors"]), pooled=False)
        both = ref.merge(sim, on=["country", "predictor"], suffixes=("_pub", "_sim"))
        gaps = (both["beta_sim"] - both["beta_pub"]).abs()
        for _, r in both.iterrows():
            rows.append(_row(f"{table} beta {r.predictor}", r.country, r.beta_pub, r.beta_sim,
                             TOLERANCES["beta"],
                             abs(r.beta_sim - r.beta_pub) <= TOLERANCES["beta"], "beta"))
        rows.append(_row(f"{table} mean |beta gap|", "all", 0.0, float(gaps.mean()),
                         TOLERANCES["beta_mean"], gaps.mean() <= TOLERANCES["beta_mean"],
                         "beta"))
        r2 = both.drop_duplicates("country").set_index("country")
        for c, r in r2.iterrows():
            rows.append(_row(f"{table} R2", c, r.r2_pub, r.r2_sim, TOLERANCES["r2"],
                             abs(r.r2_sim - r.r2_pub) <= TOLERANCES["r2"], "r2"))
            if complete_n:
                rows.append(_row(f"{table} n", c, r.n_pub, r.n_sim, 0, r.n_sim == r.n_pub, "n"))
    if complete_n:
        n_all = survey.n_respondents
        rows.append(_row("respondents surveyed", "all", pub["survey"]["n_total"], n_all, 0,
                         n_all == pub["survey"]["n_total"], "n"))
    return pd.DataFrame(rows)
