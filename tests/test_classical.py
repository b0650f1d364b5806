"""The papers' classical analyses against independent computations.

Survey data here are built from the codebook without the simulator: item codes come from
latent traits that depend on the demographics and on each other, so betas, alphas and
country differences are non-trivial. Every expected value is computed in this file, from the
raw codes, with statsmodels, numpy/pandas or by hand; none reuses the package's own helpers.
"""

from __future__ import annotations

import copy
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy import stats

import coprod_bayes as cb
from coprod_bayes.classical import (
    alphas,
    cronbach_alpha,
    group_means,
    index_items,
    index_scores,
    ols_table,
    paper_layout,
    paper_predictors,
    standardized_ols,
    stars,
    weighted_mean,
)
from coprod_bayes.published import published_betas

#: The codebook as plain YAML, read without the package's Codebook class.
RAW_CODEBOOK = yaml.safe_load(
    (resources.files("coprod_bayes.survey") / "data" / "eu5_2008.yaml").read_text("utf-8")
)
COUNTRIES = ["CZ", "DK", "DE", "FR", "GB"]  # codebook order
PREDICTORS = [
    "age",
    "female",
    "educated",
    "inactive",
    "urban",
    "efficacy",
    "gov_performance",
    "gov_information",
    "gov_consultation",
]
BINARY = ["female", "educated", "inactive", "urban"]
MISSING_CODES = [8, 9]  # every scale of the codebook: dont_know, refused
TOL = 1e-8


# ----------------------------------------------------------------------------- data
def _raw_frame(seed: int = 2008, n_per_country: int = 300) -> pd.DataFrame:
    """Raw codes (missing codes still numbers) for every column the codebook names."""
    codebook = cb.load_codebook("eu5_2008")
    rng = np.random.default_rng(seed)
    levels = list(codebook.group("country").levels)
    n = n_per_country * len(levels)
    c_idx = np.repeat(np.arange(len(levels)), n_per_country)
    shift = np.linspace(-0.5, 0.5, len(levels))[c_idx]

    age = rng.integers(18, 91, n)
    female = rng.binomial(1, 0.52, n)
    educated = rng.binomial(1, np.where(age < 40, 0.4, 0.2))
    inactive = rng.binomial(1, np.where(age >= 65, 0.85, 0.2))
    urban = rng.binomial(1, 0.6, n)
    agez = (age - 54) / 21

    gov = 0.4 * shift + rng.normal(size=n)
    latent = {
        "efficacy": 0.4 * educated - 0.2 * agez + 0.3 * gov + rng.normal(size=n),
        "conditions": shift + 0.3 * gov + rng.normal(size=n),
        "gov_performance": gov + 0.7 * rng.normal(size=n),
        "gov_information": gov + 0.7 * rng.normal(size=n),
        "gov_consultation": gov + 0.7 * rng.normal(size=n),
    }
    latent["individual"] = (
        0.5 * agez
        + 0.4 * female
        + 0.15 * urban
        + 0.4 * latent["efficacy"]
        - 0.2 * latent["gov_performance"]
        + shift
        + rng.normal(size=n)
    )
    latent["collective"] = (
        -0.3 * agez
        - 0.2 * educated
        + 0.25 * inactive
        + 0.5 * latent["efficacy"]
        + 0.15 * latent["gov_consultation"]
        - shift
        + rng.normal(size=n)
    )
    latent = {k: (v - v.mean()) / v.std() for k, v in latent.items()}

    df = pd.DataFrame(
        {
            codebook.id: 100001 + rng.permutation(n),
            "country": np.asarray(levels)[c_idx],
            codebook.weight: np.exp(0.35 * rng.normal(size=n) + 0.25 * agez),
            "age": age,
            "female": female,
            "educated": educated,
            "inactive": inactive,
            "urban": urban,
        }
    )
    # a few refusals in the demographics, so complete cases are fewer than respondents
    df.loc[rng.random(n) < 0.01, "age"] = 999
    for col in BINARY:
        df.loc[rng.random(n) < 0.01, col] = 9

    for it in codebook.items:
        k = it.scale.n_categories
        signal = 0.8 * latent[it.construct] + 0.6 * rng.normal(size=n) + rng.normal(0, 0.3)
        cut = stats.norm.ppf(np.arange(1, k) / k)
        codes = np.asarray(it.scale.codes)[np.digitize(signal, cut)]
        miss = rng.random(n) < 0.05
        codes[miss] = rng.choice(MISSING_CODES, miss.sum())
        df[it.column] = codes
    # some respondents broke off before the consultation questions: that index is missing
    breakoff = rng.random(n) < 0.015
    for it in codebook.items_of("gov_consultation"):
        df.loc[breakoff, it.column] = 9

    # shuffle so that a country's respondents are not in one block
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)[codebook.columns]


@pytest.fixture(scope="session")
def raw() -> pd.DataFrame:
    return _raw_frame()


@pytest.fixture(scope="session")
def survey(raw) -> cb.Survey:
    return cb.read_survey(raw)


# ------------------------------------------------------ independent re-implementations
def _item_ranges(name: str, area: str | None = None) -> dict[str, tuple[int, int]]:
    """Item column -> (lowest, highest code) of an index, from the YAML alone."""
    composite = RAW_CODEBOOK.get("indexes") or {}
    members = composite[name]["constructs"] if name in composite else [name]
    out = {}
    for col, spec in RAW_CODEBOOK["items"].items():
        if spec["construct"] in members and (area is None or spec.get("area") == area):
            codes = RAW_CODEBOOK["scales"][spec["scale"]]["codes"]
            out[col] = (min(codes), max(codes))
    return out


def _expected_index(raw: pd.DataFrame, name: str, area: str | None = None) -> pd.Series:
    ranges = _item_ranges(name, area)
    x = pd.DataFrame(
        {
            col: (raw[col].where(~raw[col].isin(MISSING_CODES)) - lo) / (hi - lo)
            for col, (lo, hi) in ranges.items()
        }
    )
    answered = x.notna().sum(axis=1)
    return (100 * x.mean(axis=1)).where(2 * answered >= len(ranges))


def _expected_analysis_frame(raw: pd.DataFrame, outcome: str) -> pd.DataFrame:
    df = pd.DataFrame({outcome: _expected_index(raw, outcome)})
    df["age"] = raw["age"].where(raw["age"] != 999).astype(float)
    for col in BINARY:
        df[col] = raw[col].where(raw[col] != 9).astype(float)
    for p in PREDICTORS[5:]:
        df[p] = _expected_index(raw, p)
    df["country"] = raw["country"]
    df["weight"] = raw["weight"]
    return df


def _expected_stars(p: float) -> str:
    if p < 0.01:
        return "***"
    if p < 0.05:
        return "**"
    if p < 0.10:
        return "*"
    return ""


def _zscore(df: pd.DataFrame, w: np.ndarray | None) -> pd.DataFrame:
    if w is None:
        return (df - df.mean()) / df.std()  # ddof=1: betas do not depend on it
    m = (df.mul(w, axis=0)).sum() / w.sum()
    sd = np.sqrt(((df - m) ** 2).mul(w, axis=0).sum() / w.sum())
    return (df - m) / sd


def _alpha_by_covariance(x: np.ndarray) -> float:
    """Alpha from the item covariance matrix: k/(k-1) (1 - trace C / sum C)."""
    c = np.cov(x, rowvar=False)
    k = c.shape[0]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def _linearised_se(x: np.ndarray, w: np.ndarray) -> float:
    n = len(x)
    m = np.average(x, weights=w)
    return np.sqrt(n / (n - 1) * np.sum(w**2 * (x - m) ** 2)) / np.sum(w)


# ----------------------------------------------------------------------------- fixture
def test_fixture_has_structure_and_missing_data(survey, raw):
    """Guards the data the other tests use: real effects, missing codes, varying weights."""
    assert survey.n_respondents == len(raw) == 1500
    assert raw["weight"].min() > 0 and raw["weight"].std() > 0.2
    assert survey.frame["age"].dropna().between(18, 90).all()
    assert survey.frame["age"].isna().sum() > 0
    assert survey.frame["individual_safety_1"].isna().sum() > 30
    assert index_scores(survey, "gov_consultation").isna().sum() > 10
    t = ols_table(survey, "collective", PREDICTORS)
    pooled = t[t.country == "pooled"].set_index("predictor")
    assert pooled.loc["efficacy", "beta"] > 0.2 and pooled.loc["efficacy", "p"] < 1e-6
    assert pooled.loc["age", "beta"] < -0.05 and pooled.loc["age", "p"] < 0.01


# ------------------------------------------------------------------------------- stars
@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0, "***"),
        (0.0099999, "***"),
        (0.01, "**"),
        (0.0499999, "**"),
        (0.05, "*"),
        (0.0999999, "*"),
        (0.10, ""),
        (0.5, ""),
        (1.0, ""),
        (float("nan"), ""),
    ],
)
def test_stars_boundaries(p, expected):
    assert stars(p) == expected


# --------------------------------------------------------------------------------- OLS
@pytest.mark.parametrize("weighted", [False, True], ids=["ols", "wls"])
@pytest.mark.parametrize("outcome", ["individual", "collective"])
def test_ols_table_equals_statsmodels(survey, raw, outcome, weighted):
    table = ols_table(survey, outcome, PREDICTORS, weighted=weighted)
    assert list(dict.fromkeys(table["country"])) == [*COUNTRIES, "pooled"]
    assert (table["outcome"] == outcome).all()

    exp = _expected_analysis_frame(raw, outcome)
    exp = exp[exp[[outcome, *PREDICTORS]].notna().all(axis=1)]
    assert 0.8 * len(raw) < len(exp) < len(raw)  # complete cases exclude some rows
    parts = [(lv, exp[exp["country"] == lv]) for lv in COUNTRIES] + [("pooled", exp)]
    for lv, sub in parts:
        got = table[table["country"] == lv].set_index("predictor")
        assert list(got.index) == PREDICTORS
        w = sub["weight"].to_numpy() if weighted else None
        z = _zscore(sub[[outcome, *PREDICTORS]], w)
        design = sm.add_constant(z[PREDICTORS])
        model = (
            sm.WLS(z[outcome], design, weights=w) if weighted else sm.OLS(z[outcome], design)
        ).fit()
        for ours, theirs in [
            ("beta", model.params),
            ("se", model.bse),
            ("t", model.tvalues),
            ("p", model.pvalues),
        ]:
            np.testing.assert_allclose(
                got[ours].to_numpy(),
                theirs[PREDICTORS].to_numpy(),
                rtol=TOL,
                atol=TOL,
                err_msg=f"{ours} in {lv}",
            )
        np.testing.assert_allclose(got["r2"].to_numpy(), model.rsquared, rtol=0, atol=TOL)
        assert (got["n"] == len(sub)).all(), lv
        assert list(got["stars"]) == [_expected_stars(p) for p in model.pvalues[PREDICTORS]]


def test_weighted_and_unweighted_betas_differ(survey):
    """The weights reach the fit (the WLS test alone would pass with weights ignored if the
    test's own weighting were broken the same way)."""
    a = ols_table(survey, "individual", PREDICTORS, weighted=False)
    b = ols_table(survey, "individual", PREDICTORS, weighted=True)
    assert np.max(np.abs(a["beta"].to_numpy() - b["beta"].to_numpy())) > 1e-3
    assert (a["n"] == b["n"]).all()


def test_ols_table_without_pooled(survey):
    t = ols_table(survey, "individual", ["age", "efficacy"], pooled=False)
    assert list(dict.fromkeys(t["country"])) == COUNTRIES
    assert len(t) == 2 * len(COUNTRIES)


def test_standardized_ols_unit_weights_equal_ols_and_weight_scale_is_irrelevant():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = X @ [0.5, -0.2, 0.0] + rng.normal(size=80)
    w = rng.uniform(0.5, 2.0, 80)
    names = ["a", "b", "c"]
    plain, fit_plain = standardized_ols(y, X, names)
    ones, _ = standardized_ols(y, X, names, np.ones(80))
    pd.testing.assert_frame_equal(plain, ones, rtol=1e-12)
    wt, fit_w = standardized_ols(y, X, names, w)
    wt10, fit_w10 = standardized_ols(y, X, names, 10 * w)
    pd.testing.assert_frame_equal(wt, wt10, rtol=1e-10)
    assert fit_plain["n"] == 80 and fit_plain["df_resid"] == 76
    # adjusted R2 by its formula
    r2 = fit_plain["r2"]
    assert fit_plain["adj_r2"] == pytest.approx(1 - (1 - r2) * 79 / 76, abs=1e-12)


def test_standardized_ols_single_predictor_beta_is_correlation():
    rng = np.random.default_rng(2)
    x = rng.normal(size=50)
    y = 0.4 * x + rng.normal(size=50)
    table, fit = standardized_ols(y, x[:, None], ["x"])
    r = np.corrcoef(x, y)[0, 1]
    assert table["beta"].iloc[0] == pytest.approx(r, abs=1e-12)
    assert fit["r2"] == pytest.approx(r**2, abs=1e-12)


def test_standardized_ols_rejects_constant_predictor():
    X = np.column_stack([np.arange(10.0), np.ones(10)])
    with pytest.raises(cb.SurveyDataError, match="constant"):
        standardized_ols(np.arange(10.0) ** 2, X, ["x", "k"])


# ------------------------------------------------------------------------------ alpha
HAND = np.array([[1, 2, 3], [2, 3, 3], [3, 3, 4], [4, 5, 5]], dtype=float)
# Item variances (ddof=1): col 1: 1,2,3,4 -> SS 5 -> 5/3; col 2: 2,3,3,5 -> SS 4.75 -> 4.75/3;
# col 3: 3,3,4,5 -> SS 2.75 -> 2.75/3; sum = 12.5/3.
# Row totals 6, 8, 10, 14, mean 9.5, SS 12.25 + 2.25 + 0.25 + 20.25 = 35 -> 35/3.
# alpha = 3/2 * (1 - 12.5/35) = 3/2 * 22.5/35 = 27/28 = 0.9642857...
HAND_ALPHA = 27 / 28


def test_cronbach_alpha_hand_worked():
    assert cronbach_alpha(HAND) == pytest.approx(HAND_ALPHA, abs=1e-12)
    assert cronbach_alpha(pd.DataFrame(HAND, columns=["a", "b", "c"])) == pytest.approx(
        HAND_ALPHA, abs=1e-12
    )


def test_cronbach_alpha_listwise_deletion():
    with_gaps = np.vstack([HAND, [np.nan, 5, 1], [0, np.nan, np.nan], [np.nan] * 3])
    assert cronbach_alpha(with_gaps) == pytest.approx(HAND_ALPHA, abs=1e-12)


def test_cronbach_alpha_uncorrelated_items_near_zero_and_degenerate_inputs():
    # two items with zero covariance: total variance = sum of item variances -> alpha 0
    x = np.array([[0, 0], [0, 2], [2, 0], [2, 2]], dtype=float)
    assert cronbach_alpha(x) == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(cronbach_alpha(HAND[:, :1]))  # one item
    assert np.isnan(cronbach_alpha(HAND[:1]))  # one respondent


def test_cronbach_alpha_matches_covariance_formula_on_random_data():
    rng = np.random.default_rng(7)
    trait = rng.normal(size=400)
    x = np.column_stack([trait + rng.normal(0, s, 400) for s in (0.8, 1.0, 1.3, 1.6, 2.0)])
    x[rng.random(x.shape) < 0.04] = np.nan
    complete = x[~np.isnan(x).any(axis=1)]
    assert 300 < len(complete) < 400
    expected = _alpha_by_covariance(complete)
    assert 0.5 < expected < 0.95
    assert cronbach_alpha(x) == pytest.approx(expected, abs=1e-12)


def test_alphas_of_survey_indexes(survey, raw):
    table = alphas(survey).set_index("index")
    assert list(table.index) == [
        "individual",
        "collective",
        "efficacy",
        "conditions",
        "gov_performance",
        "gov_information",
        "gov_consultation",
        "coproduction",
    ]
    for name, row in table.iterrows():
        ranges = _item_ranges(name)
        x = pd.DataFrame(
            {
                col: (raw[col].where(~raw[col].isin(MISSING_CODES)) - lo) / (hi - lo)
                for col, (lo, hi) in ranges.items()
            }
        ).dropna()
        assert row["items"] == len(ranges), name
        assert row["n"] == len(x), name
        assert row["alpha"] == pytest.approx(_alpha_by_covariance(x.to_numpy()), abs=1e-12)
    assert table.loc["individual", "alpha"] > 0.5  # the fixture's items do cohere


# ---------------------------------------------------------------------------- indexes
def _tiny_raw() -> pd.DataFrame:
    """One respondent per country; every item at a default code, then edited per test."""
    codebook = cb.load_codebook("eu5_2008")
    df = pd.DataFrame(
        {
            "respondent_id": [1, 2, 3, 4, 5],
            "country": COUNTRIES,
            "weight": [1.0, 0.5, 2.0, 1.5, 1.0],
            "age": [30, 40, 50, 60, 70],
            "female": [0, 1, 0, 1, 0],
            "educated": [1, 0, 0, 1, 0],
            "inactive": [0, 0, 1, 1, 0],
            "urban": [1, 1, 0, 0, 1],
        }
    )
    defaults = {"frequency3": 1, "volunteer4": 2}  # 0.5 and 2/3 after rescaling
    for it in codebook.items:
        df[it.column] = defaults.get(it.scale.name, 2)
    return df[codebook.columns]


def _set(df: pd.DataFrame, row: int, **codes: int) -> None:
    for col, code in codes.items():
        df.loc[row, col] = code


@pytest.fixture(scope="module")
def tiny() -> cb.Survey:
    df = _tiny_raw()
    ind = [f"individual_{a}_{k}" for a in ("safety", "environment", "health") for k in (1, 2, 3, 4)]
    # CZ: every item answered
    _set(df, 0, **{c: 2 for c in ind})
    _set(
        df,
        0,
        individual_safety_1=0,
        individual_health_3=1,
        collective_safety_1=1,
        collective_safety_2=3,
        collective_environment_1=0,
        collective_environment_2=2,
        collective_health_1=2,
        collective_health_2=1,
        efficacy_safety=3,
        efficacy_environment=1,
        efficacy_health=0,
    )
    # DK: exactly half of collective (3 of 6) and 2 of 3 efficacy items answered
    _set(
        df,
        1,
        collective_safety_1=2,
        collective_safety_2=9,
        collective_environment_1=8,
        collective_environment_2=1,
        collective_health_1=9,
        collective_health_2=0,
        efficacy_safety=2,
        efficacy_environment=8,
        efficacy_health=3,
    )
    # DE: one fewer than half of collective (2 of 6); 1 of 3 efficacy; 2 of 4 individual_safety
    _set(
        df,
        2,
        collective_safety_1=1,
        collective_safety_2=2,
        collective_environment_1=8,
        collective_environment_2=9,
        collective_health_1=8,
        collective_health_2=9,
        efficacy_safety=1,
        efficacy_environment=8,
        efficacy_health=9,
        individual_safety_1=1,
        individual_safety_2=2,
        individual_safety_3=8,
        individual_safety_4=9,
    )
    # FR: 3 of 12 individual items (1 of 4 in safety, 2 of 4 in environment, none in health);
    # collective complete, so 9 of the 18 co-production items
    _set(df, 3, **{c: 8 for c in ind})
    _set(df, 3, individual_safety_1=2, individual_environment_1=1, individual_environment_2=0)
    # GB: no individual item answered; collective complete -> 6 of 18 co-production items
    _set(df, 4, **{c: 9 for c in ind})
    return cb.read_survey(df)


def _score(survey, name, area=None, **kw) -> np.ndarray:
    return index_scores(survey, name, area, **kw).to_numpy()


def test_index_scores_by_hand(tiny):
    nan = np.nan
    # individual (12 items, 0-2 scale):
    #   CZ: ten 2s (1.0), one 0, one 1 (0.5) -> 10.5 / 12 = 87.5
    #   DK: defaults 1 (0.5) -> 50
    #   DE: safety 1, 2 (0.5, 1.0), two safety items missing, 8 defaults: 5.5 / 10 = 55
    #   FR: 3 answered of 12 < 6 -> missing;  GB: none answered -> missing
    np.testing.assert_allclose(_score(tiny, "individual"), [87.5, 50, 55, nan, nan], atol=1e-12)
    # collective (3 items 0-2, 3 items 0-3):
    #   CZ: 1/2 + 3/3 + 0/2 + 2/3 + 2/2 + 1/3 = 3.5 -> 3.5 / 6 = 58.33
    #   DK: exactly half answered: 2/2 + 1/3 + 0/3 = 4/3 -> (4/3) / 3 = 44.44
    #   DE: 2 of 6 answered -> missing
    #   FR, GB: defaults 3 * 1/2 + 3 * 2/3 = 3.5 -> 58.33
    np.testing.assert_allclose(
        _score(tiny, "collective"), [350 / 6, 400 / 9, nan, 350 / 6, 350 / 6], atol=1e-10
    )
    # efficacy (3 items, 0-3): CZ 3/3 + 1/3 + 0 = 4/3 -> 44.44; DK (2/3 + 3/3) / 2 = 83.33;
    # DE 1 of 3 answered -> missing; FR, GB defaults 2/3 -> 66.67
    np.testing.assert_allclose(
        _score(tiny, "efficacy"), [400 / 9, 250 / 3, nan, 200 / 3, 200 / 3], atol=1e-10
    )


def test_composite_index_averages_individual_and_collective_items(tiny):
    # CZ: (10.5 + 3.5) / 18 = 77.78 (the mean of the items, not of the two indexes)
    # DK: individual 12 * 0.5 = 6 plus collective 4/3 over 15 answered = 48.89
    # DE: individual 5.5 (10 answered) plus 1/2 + 2/3 over 12 answered = 55.56
    # FR: exactly 9 of 18 answered: (1 + 0.5 + 0) + 3.5 = 5 over 9 = 55.56
    # GB: 6 of 18 answered -> missing, although its collective index exists
    np.testing.assert_allclose(
        _score(tiny, "coproduction"),
        [1400 / 18, 100 * (6 + 4 / 3) / 15, 100 * (5.5 + 0.5 + 2 / 3) / 12, 500 / 9, np.nan],
        atol=1e-10,
    )
    assert index_scores(tiny, "coproduction").name == "coproduction"


def test_area_index_uses_only_that_area(tiny):
    assert [it.column for it in index_items(tiny, "individual", "safety")] == [
        f"individual_safety_{k}" for k in (1, 2, 3, 4)
    ]
    assert [it.column for it in index_items(tiny, "coproduction", "health")] == [
        *(f"individual_health_{k}" for k in (1, 2, 3, 4)),
        "collective_health_1",
        "collective_health_2",
    ]
    # individual_safety: CZ 0, 2, 2, 2 -> 3 / 4 = 75; DE 2 of 4 answered (1, 2) -> 75;
    # FR 1 of 4 -> missing; GB none -> missing
    s = index_scores(tiny, "individual", "safety")
    assert s.name == "individual_safety"
    np.testing.assert_allclose(s.to_numpy(), [75, 50, 75, np.nan, np.nan], atol=1e-12)
    # individual_environment: FR 2 of 4 answered (1, 0) -> 25
    np.testing.assert_allclose(
        _score(tiny, "individual", "environment"), [100, 50, 50, 25, np.nan], atol=1e-12
    )
    # coproduction_safety (4 individual + 2 collective):
    #   CZ (0 + 1 + 1 + 1) + (1/2 + 3/3) = 4.5 / 6 = 75
    #   GB: only the 2 collective items answered, 2 < 3 -> missing
    np.testing.assert_allclose(
        _score(tiny, "coproduction", "safety")[[0, 4]], [75, np.nan], atol=1e-12
    )
    # CZ's health items differ from its safety ones, so the areas cannot be confused:
    # individual_health 2, 2, 1, 2 -> 3.5 / 4 = 87.5
    assert _score(tiny, "individual", "health")[0] == pytest.approx(87.5, abs=1e-12)


def test_min_answered(tiny):
    # requiring every item: DK's collective (3 of 6) becomes missing, CZ's stays
    s = _score(tiny, "collective", min_answered=1.0)
    assert s[0] == pytest.approx(350 / 6, abs=1e-10)
    assert np.isnan(s[1])


def test_min_answered_zero_keeps_unanswered_missing(tiny):
    # any answer suffices: FR's 3 individual items (1, 0.5, 0) -> 50; GB answered none, so
    # it has no score (not 0)
    s = _score(tiny, "individual", min_answered=0.0)
    np.testing.assert_allclose(s, [87.5, 50, 55, 50, np.nan], atol=1e-12)


def test_index_reverse_keyed_item_is_reversed(tiny):
    raw_cb = copy.deepcopy(RAW_CODEBOOK)
    raw_cb["items"]["efficacy_safety"]["reverse"] = True
    s = cb.read_survey(tiny.to_raw(), codebook=raw_cb)
    # CZ: efficacy_safety 3 reversed to 0: (0 + 1/3 + 0) / 3 = 11.11 (was 44.44)
    assert _score(s, "efficacy")[0] == pytest.approx(100 / 9, abs=1e-10)


def test_unknown_index_or_empty_area_is_an_error(tiny):
    with pytest.raises(cb.SurveyDataError, match="no construct or index"):
        index_scores(tiny, "happiness")
    with pytest.raises(cb.SurveyDataError, match="no items"):
        index_scores(tiny, "individual", "transport")


@pytest.mark.parametrize(
    ("name", "area"),
    [
        ("individual", None),
        ("collective", None),
        ("coproduction", None),
        ("efficacy", None),
        ("gov_consultation", None),
        ("individual", "health"),
        ("coproduction", "environment"),
        ("collective", "safety"),
    ],
)
def test_index_scores_on_survey_match_independent_computation(survey, raw, name, area):
    got = index_scores(survey, name, area)
    exp = _expected_index(raw, name, area)
    np.testing.assert_allclose(got.to_numpy(), exp.to_numpy(), rtol=0, atol=1e-10)
    assert got.notna().sum() > 0.9 * len(raw)


# ---------------------------------------------------------------------------- means
def test_weighted_mean_hand_worked():
    # x = 1, 2, 3 with w = 1, 1, 2: m = 9/4; residuals -5/4, -1/4, 3/4;
    # sum w^2 r^2 = 25/16 + 1/16 + 4 * 9/16 = 62/16; se = sqrt(3/2 * 62/16) / 4
    m, se, n = weighted_mean(np.array([1.0, 2.0, 3.0, np.nan]), np.array([1.0, 1.0, 2.0, 5.0]))
    assert (m, n) == (pytest.approx(2.25, abs=1e-12), 3)
    assert se == pytest.approx(np.sqrt(1.5 * 62 / 16) / 4, abs=1e-12)
    assert np.isnan(weighted_mean(np.array([1.0, np.nan]))[0])


@pytest.mark.parametrize("area", [None, "environment"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_group_means_equal_independent_computation(survey, raw, weighted, area):
    name = "collective"
    got = group_means(survey, name, weighted=weighted, area=area)
    assert list(got["country"]) == COUNTRIES
    assert (got["index"] == (name if area is None else f"{name}_{area}")).all()
    assert (got["weighted"] == weighted).all()
    score = _expected_index(raw, name, area)
    for _, row in got.iterrows():
        sel = (raw["country"] == row["country"]) & score.notna()
        x = score[sel].to_numpy()
        w = raw.loc[sel, "weight"].to_numpy()
        assert row["n"] == len(x) and len(x) > 250
        if weighted:
            mean, se = np.average(x, weights=w), _linearised_se(x, w)
        else:
            mean, se = x.mean(), x.std(ddof=1) / np.sqrt(len(x))
        assert row["mean"] == pytest.approx(mean, abs=1e-10)
        assert row["se"] == pytest.approx(se, abs=1e-10)
        # 1.959964 is rounded: allow its 1e-7 slack times se (< 1)
        assert row["lower"] == pytest.approx(mean - 1.959964 * se, abs=1e-6)
        assert row["upper"] == pytest.approx(mean + 1.959964 * se, abs=1e-6)


def test_group_means_weighted_differs_from_unweighted(survey):
    a = group_means(survey, "individual", weighted=False)
    b = group_means(survey, "individual", weighted=True)
    assert np.max(np.abs(a["mean"] - b["mean"])) > 0.1
    assert (a["n"] == b["n"]).all()


def test_group_means_level(survey):
    m = group_means(survey, "individual", level=0.90).iloc[0]
    assert m["upper"] - m["mean"] == pytest.approx(1.6448536 * m["se"], abs=1e-6)


# ---------------------------------------------------------------------- paper layout
def test_paper_layout_hand_made_table():
    tidy = pd.DataFrame(
        {
            "country": ["CZ", "CZ", "GB", "GB"],
            "outcome": "individual",
            "predictor": ["age", "gov_performance", "age", "gov_performance"],
            "beta": [0.1371, -0.1189, 0.128, 0.0004],
            "p": [0.001, 0.002, 0.003, 0.9],
            "stars": ["***", "***", "***", ""],
            "n": [961, 961, 946, 946],
            "r2": [0.0762, 0.0762, 0.1236, 0.1236],
        }
    )
    wide = paper_layout(tidy)
    assert list(wide.columns) == ["CZ", "GB"]
    assert list(wide.index) == ["age", "gov_performance", "n", "R2"]
    assert wide.to_numpy().tolist() == [
        ["0.137***", "0.128***"],
        ["-0.119***", "0.000"],
        ["961", "946"],
        ["0.076", "0.124"],
    ]
    assert paper_layout(tidy, digits=2).loc["age", "CZ"] == "0.14***"


def test_paper_layout_of_ols_table(survey):
    t = ols_table(survey, "individual", PREDICTORS)
    wide = paper_layout(t)
    assert list(wide.columns) == [*COUNTRIES, "pooled"]
    assert list(wide.index) == [*PREDICTORS, "n", "R2"]
    for _, row in t.iterrows():
        assert wide.loc[row["predictor"], row["country"]] == f"{row['beta']:.3f}{row['stars']}"
    first = t.drop_duplicates("country").set_index("country")
    for lv in [*COUNTRIES, "pooled"]:
        assert wide.loc["n", lv] == str(int(first.loc[lv, "n"]))
        assert wide.loc["R2", lv] == f"{first.loc[lv, 'r2']:.3f}"
    assert int(wide.loc["n", "pooled"]) == sum(int(wide.loc["n", c]) for c in COUNTRIES)


# ----------------------------------------------------------------- published figures
def test_paper_predictors():
    assert paper_predictors() == PREDICTORS


@pytest.mark.parametrize(
    ("table", "country", "predictor", "beta", "star"),
    [
        ("table2_individual", "CZ", "age", 0.137, "***"),
        ("table2_individual", "GB", "efficacy", 0.250, "***"),
        ("table2_individual", "DK", "gov_performance", -0.100, "**"),
        ("table2_individual", "DE", "gov_performance", -0.096, "*"),
        ("table2_individual", "FR", "urban", 0.051, "*"),
        ("table2_individual", "GB", "educated", -0.010, ""),
        ("table3_collective", "FR", "educated", -0.086, "***"),
        ("table3_collective", "FR", "female", 0.000, ""),
        ("table3_collective", "DK", "urban", -0.101, "***"),
        ("table3_collective", "GB", "inactive", 0.077, "**"),
    ],
)
def test_published_betas_spot_checks(table, country, predictor, beta, star):
    # values copied from /work/shared/published/eu5_2008.yaml (JSP 2015, Tables 2-3)
    t = published_betas(table)
    row = t[(t["country"] == country) & (t["predictor"] == predictor)]
    assert len(row) == 1
    assert row["beta"].iloc[0] == pytest.approx(beta, abs=1e-12)
    assert row["stars"].iloc[0] == star


def test_published_betas_complete_and_equal_to_yaml():
    pub = yaml.safe_load(
        (resources.files("coprod_bayes") / "published" / "eu5_2008.yaml").read_text("utf-8")
    )
    total = 0
    for table in ("table2_individual", "table3_collective"):
        t = published_betas(table)
        assert list(t.columns) == ["country", "predictor", "beta", "stars", "n", "r2"]
        assert len(t) == 45
        assert set(zip(t["country"], t["predictor"], strict=True)) == {
            (c, p) for c in COUNTRIES for p in PREDICTORS
        }
        total += len(t)
        for _, row in t.iterrows():
            cell = pub[table]["beta"][row["predictor"]][row["country"]].strip()
            number = cell.rstrip("*")
            assert row["beta"] == float(number)
            assert row["stars"] == cell[len(number) :]
            assert row["n"] == pub[table]["n"][row["country"]]
            assert row["r2"] == pub[table]["r_squared"][row["country"]]
        assert set(t["stars"]) == {"", "*", "**", "***"}
    assert total == 90
    t2 = published_betas("table2_individual").drop_duplicates("country").set_index("country")
    assert t2.loc["FR", "n"] == 913 and t2.loc["FR", "r2"] == 0.181


def test_paper_layout_prints_tiny_negative_as_zero():
    from coprod_bayes.classical import paper_layout

    t = pd.DataFrame({"country": ["CZ", "CZ"], "predictor": ["age", "female"],
                      "beta": [-0.0004, 0.1234], "stars": ["", "***"], "n": [10, 10],
                      "r2": [0.1, 0.1]})
    wide = paper_layout(t)
    assert wide.loc["age", "CZ"] == "0.000"
    assert wide.loc["female", "CZ"] == "0.123***"


def test_ols_table_too_few_complete_rows_names_the_group(survey):
    from coprod_bayes.classical import ols_table

    small = cb.read_survey(survey.to_raw().groupby("country").head(6).reset_index(drop=True))
    with pytest.raises(cb.SurveyDataError, match=r"country 'CZ': \d+ complete rows"):
        ols_table(small, "individual",
                  ["age", "female", "educated", "inactive", "urban", "efficacy"])
