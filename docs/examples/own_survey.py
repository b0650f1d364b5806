"""Bring your own survey: a codebook for a small two-town survey with six-point Likert items
(one reverse-keyed) and missing-value codes, the validation error a bad file gets and its
fix, the classical indexes and alphas, and a latent model of the items.

    python docs/examples/own_survey.py [--quick]

``--quick`` (what the test suite runs) stops before the latent model is sampled.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

import coprod_bayes as cb

QUICK = "--quick" in sys.argv

# 1. The codebook: every column named, with its construct, scale and missing codes. A YAML
#    file with the same content works the same way: cb.load_codebook("my_codebook.yaml").
CODEBOOK = {
    "name": "two_towns_2026",
    "title": "Two-town survey of neighbourhood co-production, 2026",
    "id": "resp",
    "weight": "wt",
    "groups": {"town": {"levels": ["North", "South"]}},
    "scales": {
        "agree6": {"codes": [1, 2, 3, 4, 5, 6],
                   "labels": ["strongly disagree", "disagree", "slightly disagree",
                              "slightly agree", "agree", "strongly agree"],
                   "missing": {8: "dont_know", 9: "refused"}},
    },
    "constructs": {"efficacy": {"label": "Citizens can make a difference"},
                   "involvement": {"label": "Involvement in neighbourhood groups"}},
    "demographics": {"age": {"type": "numeric", "min": 16, "max": 110,
                             "missing": {999: "refused"}}},
    "items": {
        "eff1": {"construct": "efficacy", "scale": "agree6",
                 "label": "People like me can change how safe this area is"},
        "eff2": {"construct": "efficacy", "scale": "agree6",
                 "label": "Residents working together can improve the area"},
        "eff3": {"construct": "efficacy", "scale": "agree6", "reverse": True,
                 "label": "Nothing residents do makes any difference"},
        "inv1": {"construct": "involvement", "scale": "agree6",
                 "label": "I take part in a residents' group"},
        "inv2": {"construct": "involvement", "scale": "agree6",
                 "label": "I would give time to a clean-up day"},
        "inv3": {"construct": "involvement", "scale": "agree6",
                 "label": "I help organise local events"},
    },
}


def simulate_file(n: int = 400, seed: int = 1) -> pd.DataFrame:
    """What a survey firm might deliver: codes 1-6, 8 = don't know, 9 = refused."""
    rng = np.random.default_rng(seed)
    town = np.repeat(["North", "South"], n // 2)
    eff = rng.standard_normal(n) + np.where(town == "South", 0.4, 0.0)
    inv = 0.5 * eff + np.sqrt(0.75) * rng.standard_normal(n)
    cuts = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    out = {"resp": np.arange(1, n + 1), "town": town, "wt": rng.uniform(0.5, 1.5, n),
           "age": rng.integers(16, 90, n)}
    for name, f, sign in [("eff1", eff, 1), ("eff2", eff, 1), ("eff3", eff, -1),
                          ("inv1", inv, 1), ("inv2", inv, 1), ("inv3", inv, 1)]:
        out[name] = 1 + np.searchsorted(cuts, sign * 1.5 * f + rng.logistic(size=n))
        out[name][rng.random(n) < 0.03] = 8  # don't know
    return pd.DataFrame(out)


def main() -> dict:
    codebook = cb.load_codebook(CODEBOOK)
    raw = simulate_file()

    # 2. A bad file: a typing slip (7 on a six-point scale) and an age of 150. read_survey
    #    names the column, the rows (by respondent id) and the values, and reads nothing.
    bad = raw.copy()
    bad.loc[[4, 17], "inv2"] = 7
    bad.loc[9, "age"] = 150
    try:
        cb.read_survey(bad, codebook=codebook)
        raise AssertionError("the bad file was read")
    except cb.SurveyDataError as e:
        error = str(e)
    print("The bad file:\n" + error + "\n")

    # 3. The fixed file reads; "don't know" (8) becomes missing, its reason kept.
    survey = cb.read_survey(raw, codebook=codebook)
    print(repr(survey))
    print("reasons for missing answers:",
          survey.missing_reasons.stack().value_counts().to_dict(), "\n")

    # 4. Classical: 0-100 indexes (eff3 reversed by the codebook) and Cronbach's alpha.
    alphas = cb.classical.alphas(survey)
    print(alphas.to_string(index=False), "\n")

    # 5. A latent model of the items, in lavaan's syntax: ordinal items (the codebook says so),
    #    town latent means and SDs, scalar invariance.
    fit = None
    if not QUICK:
        fit = cb.sem("efficacy =~ eff1 + eff2 + eff3\ninvolvement =~ inv1 + inv2 + inv3\n"
                     "involvement ~ efficacy", survey, group="town", vary_slopes=False,
                     seed=1)
        print(fit.verdict.headline)
        print(fit.standardized_solution().round(3).to_string(index=False))
    return {"error": error, "survey": survey, "alphas": alphas, "fit": fit}


if __name__ == "__main__":
    main()
