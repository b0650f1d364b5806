"""Reading files (CSV, Parquet, SPSS, Stata) and the respondent x area long format."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import coprod_bayes as cb
from coprod_bayes import SurveyDataError
from coprod_bayes.survey.codebook import load_codebook


def write(df: pd.DataFrame, path, **kwargs):
    suffix = path.suffix
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif suffix == ".sav":
        pyreadstat.write_sav(df, str(path), **kwargs)
    elif suffix == ".dta":
        pyreadstat.write_dta(df, str(path), **kwargs)
    else:
        raise AssertionError(suffix)
    return path


@pytest.fixture(scope="module")
def direct(raw_eu5_session):
    return cb.read_survey(raw_eu5_session)


# ---------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".sav", ".dta"])
def test_file_reads_as_the_frame_read_directly(tmp_path, raw_eu5_session, direct, suffix):
    path = write(raw_eu5_session, tmp_path / f"wave{suffix}")
    s = cb.read_survey(path)
    assert s.source == str(path)
    pd.testing.assert_frame_equal(s.frame, direct.frame)
    # missing codes (8/9, 999) survive as reasons, not only as NaN
    pd.testing.assert_frame_equal(s.missing_reasons, direct.missing_reasons)
    assert s.missing_reasons["efficacy_health"].value_counts().to_dict() == {
        "dont_know": 8,
        "refused": 4,
    }
    assert s.frame["respondent_id"].tolist()[:3] == [1001, 1002, 1003]


def test_direct_frame_source(direct):
    assert direct.source == "<DataFrame>"


def test_sav_with_declared_user_missing_keeps_the_codes(tmp_path, raw_eu5_session, direct, eu5):
    """SPSS files usually declare 8/9 as user-missing; the codebook still gets the codes."""
    ranges = {col: [8, 9] for col in eu5.item_columns}
    ranges["age"] = [999]
    path = write(raw_eu5_session, tmp_path / "declared.sav", missing_ranges=ranges)
    s = cb.read_survey(path)
    pd.testing.assert_frame_equal(s.frame, direct.frame)
    pd.testing.assert_frame_equal(s.missing_reasons, direct.missing_reasons)


def test_to_raw_round_trips_through_a_file(tmp_path, direct):
    path = write(direct.to_raw(), tmp_path / "again.csv")
    s = cb.read_survey(path)
    pd.testing.assert_frame_equal(s.frame, direct.frame)
    pd.testing.assert_frame_equal(s.missing_reasons, direct.missing_reasons)


WAVES_CODEBOOK = {
    "name": "two_waves",
    "id": "pid",
    "groups": {"wave": {"levels": [2008, 2011]}, "country": {"levels": [1, 2]}},
    "scales": {"yesno": {"codes": [0, 1], "missing": {9: "refused"}}},
    "items": {"q1": {"construct": "voted", "scale": "yesno"}},
}


@pytest.mark.parametrize("suffix", [".sav", ".dta", ".csv", ".parquet"])
def test_numeric_ids_and_group_codes_read_back_as_levels(tmp_path, suffix):
    """SPSS and Stata store numbers as doubles: 2008 must not become the level '2008.0'."""
    codebook = load_codebook(WAVES_CODEBOOK)
    df = pd.DataFrame(
        {
            "pid": [7, 8, 9, 10],
            "wave": [2008, 2008, 2011, 2011],
            "country": [1, 2, 2, 1],
            "q1": [0, 1, 9, 1],
        }
    )
    s = cb.read_survey(write(df, tmp_path / f"waves{suffix}"), codebook)
    assert s.frame["wave"].tolist() == ["2008", "2008", "2011", "2011"]
    assert s.frame["country"].tolist() == ["1", "2", "2", "1"]
    assert s.frame["pid"].dtype == np.int64
    assert s.frame["pid"].tolist() == [7, 8, 9, 10]
    assert s.missing_reasons["q1"].tolist()[2] == "refused"


# ---------------------------------------------------------------------------- read errors


def test_unknown_extension_names_the_path(tmp_path, raw_eu5_session):
    path = tmp_path / "wave.xlsx"
    path.write_bytes(b"not really a spreadsheet")
    with pytest.raises(SurveyDataError) as err:
        cb.read_survey(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "'.xlsx'" in msg and ".csv, .parquet, .sav or .dta" in msg


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nowhere" / "wave.sav"
    with pytest.raises(SurveyDataError) as err:
        cb.read_survey(path)
    assert str(path) in str(err.value)
    assert "does not exist" in str(err.value)


def test_bad_file_error_names_column_rows_values(tmp_path, raw_eu5_session):
    bad = raw_eu5_session.copy()
    bad.loc[[3, 10], "efficacy_health"] = 6
    path = write(bad, tmp_path / "bad.sav")
    with pytest.raises(SurveyDataError) as err:
        cb.read_survey(path)
    msg = str(err.value)
    assert "'efficacy_health'" in msg
    assert "rows 3, 10 (respondent_id 1004, 1011) have 6.0, 6.0" in msg


# ---------------------------------------------------------------------------- long format

LONG_CONSTRUCTS = [
    "individual_1",
    "individual_2",
    "individual_3",
    "individual_4",
    "collective_1",
    "collective_2",
    "efficacy",
    "conditions",
    "gov_performance",
    "gov_information",
    "gov_consultation",
]


@pytest.fixture(scope="module")
def long(direct):
    return direct.to_long()


def test_long_shape_and_columns(long, direct):
    assert long.shape == (3 * direct.n_respondents, 9 + len(LONG_CONSTRUCTS))
    assert list(long.columns) == [
        "respondent_id",
        "area",
        "country",
        "weight",
        "age",
        "female",
        "educated",
        "inactive",
        "urban",
        *LONG_CONSTRUCTS,
    ]
    assert list(long["area"].cat.categories) == ["safety", "environment", "health"]


def test_long_one_row_per_respondent_and_area(long, direct):
    counts = long.groupby(["respondent_id", "area"], observed=False).size()
    assert len(counts) == 3 * direct.n_respondents
    assert set(counts) == {1}
    # respondent-major order, areas in codebook order
    assert long["respondent_id"].tolist()[:6] == [1001, 1001, 1001, 1002, 1002, 1002]
    assert long["area"].astype(str).tolist()[:6] == ["safety", "environment", "health"] * 2


def expected_code(raw_value):
    return np.nan if raw_value in (8, 9) else float(raw_value)


@pytest.mark.parametrize("position", [0, 57, 123, 199])
def test_long_values_equal_the_wide_codes(long, raw_eu5_session, position):
    """Checked against the raw codes, independently of the survey's own frame."""
    wide = raw_eu5_session.iloc[position]
    rows = long[long["respondent_id"] == wide["respondent_id"]]
    assert rows["area"].astype(str).tolist() == ["safety", "environment", "health"]
    for _, row in rows.iterrows():
        area = row["area"]
        assert row["country"] == wide["country"]
        assert row["weight"] == wide["weight"]
        expected = {f"individual_{k}": wide[f"individual_{area}_{k}"] for k in range(1, 5)}
        expected |= {f"collective_{k}": wide[f"collective_{area}_{k}"] for k in (1, 2)}
        for construct in (
            "efficacy",
            "conditions",
            "gov_performance",
            "gov_information",
            "gov_consultation",
        ):
            expected[construct] = wide[f"{construct}_{area}"]
        got = row[LONG_CONSTRUCTS].to_numpy(dtype=float)
        want = np.array([expected_code(expected[c]) for c in LONG_CONSTRUCTS])
        np.testing.assert_array_equal(got, want)


def test_long_keeps_missing_answers_missing(long, direct):
    n_missing_wide = int(direct.frame[direct.codebook.item_columns].isna().sum().sum())
    assert n_missing_wide == 33 * 12
    assert int(long[LONG_CONSTRUCTS].isna().sum().sum()) == n_missing_wide


AREAS_CODEBOOK = {
    "name": "two_areas",
    "id": "pid",
    "groups": {"group": {"levels": ["a", "b"]}},
    "areas": ["home", "work"],
    "scales": {"likert6": {"codes": [1, 2, 3, 4, 5, 6], "missing": {99: "refused"}}},
    "items": {
        "trust_home_1": {"construct": "trust", "area": "home", "scale": "likert6"},
        "trust_home_2": {"construct": "trust", "area": "home", "scale": "likert6", "reverse": True},
        "trust_work_1": {"construct": "trust", "area": "work", "scale": "likert6"},
        "trust_work_2": {"construct": "trust", "area": "work", "scale": "likert6", "reverse": True},
        "voice_home": {"construct": "voice", "area": "home", "scale": "likert6"},
        "voice_work": {"construct": "voice", "area": "work", "scale": "likert6"},
        "general": {"construct": "mood", "scale": "likert6"},
    },
}


def test_long_reverses_reverse_keyed_items_and_skips_area_free_items():
    df = pd.DataFrame(
        {
            "pid": [1, 2],
            "group": ["a", "b"],
            "trust_home_1": [2, 6],
            "trust_home_2": [1, 99],
            "trust_work_1": [3, 4],
            "trust_work_2": [6, 5],
            "voice_home": [4, 1],
            "voice_work": [5, 2],
            "general": [3, 3],
        }
    )
    long = cb.Survey.from_frame(df, load_codebook(AREAS_CODEBOOK)).to_long()
    assert list(long.columns) == ["pid", "area", "group", "trust_1", "trust_2", "voice"]
    expected = pd.DataFrame(
        {
            "trust_1": [2.0, 3.0, 6.0, 4.0],
            "trust_2": [6.0, 1.0, np.nan, 2.0],  # 7 - code
            "voice": [4.0, 5.0, 1.0, 2.0],
        }
    )
    pd.testing.assert_frame_equal(long[["trust_1", "trust_2", "voice"]], expected)
    assert long["area"].astype(str).tolist() == ["home", "work", "home", "work"]


def test_long_without_areas_is_a_clear_error():
    codebook = dict(
        AREAS_CODEBOOK,
        areas=[],
        items={
            "general": {"construct": "mood", "scale": "likert6"},
        },
    )
    df = pd.DataFrame({"pid": [1, 2], "group": ["a", "b"], "general": [3, 99]})
    s = cb.Survey.from_frame(df, load_codebook(codebook))
    with pytest.raises(SurveyDataError, match="'two_areas' defines no policy areas"):
        s.to_long()
