"""Shared fixtures: a valid raw frame of the 2008 wave, built from its codebook."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from coprod_bayes.survey.codebook import load_codebook

N_PER_COUNTRY = 40


@pytest.fixture(scope="session")
def n_per_country():
    """Respondents per country in ``raw_eu5``."""
    return N_PER_COUNTRY


@pytest.fixture(scope="session")
def eu5():
    return load_codebook("eu5_2008")


@pytest.fixture(scope="session")
def raw_eu5_session(eu5):
    """Raw codes as a survey firm delivers them: valid codes plus missing codes (8/9, 999).

    Every item column gets at least one "don't know" (8) and one "refused" (9), so the tests of
    missing-value handling never pass on an empty set.
    """
    rng = np.random.default_rng(20080415)
    countries = np.repeat(eu5.group("country").levels, N_PER_COUNTRY)
    n = len(countries)
    df = pd.DataFrame(
        {
            "respondent_id": np.arange(1001, 1001 + n),
            "country": countries,
            "weight": np.round(rng.uniform(0.4, 2.5, n), 4),
        }
    )
    age = rng.integers(18, 91, n)
    age[rng.choice(n, 4, replace=False)] = 999
    df["age"] = age
    for d in eu5.demographics:
        if d.type == "binary":
            v = rng.integers(0, 2, n)
            v[rng.choice(n, 3, replace=False)] = 9
            df[d.column] = v
    for it in eu5.items:
        v = rng.choice(np.array(it.scale.codes), n)
        cells = rng.choice(n, 12, replace=False)
        v[cells[:8]] = 8
        v[cells[8:]] = 9
        df[it.column] = v
    return df


@pytest.fixture
def raw_eu5(raw_eu5_session):
    """A fresh copy for a test to spoil."""
    return raw_eu5_session.copy()
