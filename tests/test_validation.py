"""The bad-input catalogue: each error names the column, the rows and the values.

Row positions in messages are 0-based positions in the frame given (not index labels), and
respondent ids are shown beside them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coprod_bayes as cb
from coprod_bayes import SurveyDataError
from coprod_bayes.survey.validate import validate_frame


def error_of(df, codebook="eu5_2008") -> str:
    with pytest.raises(SurveyDataError) as err:
        cb.Survey.from_frame(df, codebook)
    return str(err.value)


def assert_names(msg, *parts):
    for part in parts:
        assert part in msg, f"{part!r} not in message:\n{msg}"


# ---------------------------------------------------------------------------- the valid frame


def test_valid_frame_passes(raw_eu5, eu5, n_per_country):
    s = cb.Survey.from_frame(raw_eu5, eu5)
    assert s.n_respondents == 5 * n_per_country
    assert s.frame["country"].value_counts().to_dict() == {
        lv: n_per_country for lv in eu5.group("country").levels
    }


def test_survey_data_error_is_a_value_error(raw_eu5):
    assert issubclass(SurveyDataError, ValueError)
    raw_eu5.loc[0, "efficacy_safety"] = 4
    with pytest.raises(ValueError, match="efficacy_safety"):
        cb.Survey.from_frame(raw_eu5, "eu5_2008")


# ---------------------------------------------------------------------------- one problem each


def test_missing_column(raw_eu5):
    msg = error_of(raw_eu5.drop(columns=["efficacy_health", "urban"]))
    assert_names(msg, "'efficacy_health'", "'urban'", "missing from the data")


def test_out_of_range_item_code(raw_eu5):
    raw_eu5.loc[[3, 17], "individual_safety_1"] = 7
    msg = error_of(raw_eu5)
    assert_names(
        msg,
        "'individual_safety_1'",
        "2 row(s): rows 3, 17",
        "(respondent_id 1004, 1018)",
        "have 7, 7",
        "'frequency3'",
        "codes [0, 1, 2]",
        "missing codes [8, 9]",
    )
    assert "(1 problem(s))" in msg


def test_out_of_range_code_in_many_rows_shows_the_first_five(raw_eu5):
    rows = list(range(10, 40, 3))  # 10 rows
    raw_eu5.loc[rows, "gov_information_health"] = 5
    msg = error_of(raw_eu5)
    assert_names(
        msg,
        "'gov_information_health'",
        "10 row(s): rows 10, 13, 16, 19, 22 (and 5 more)",
        "have 5, 5, 5, 5, 5",
    )


def test_non_numeric_item_code(raw_eu5):
    col = "conditions_health"
    raw_eu5[col] = raw_eu5[col].astype(object)
    raw_eu5.loc[5, col] = "often"
    msg = error_of(raw_eu5)
    assert_names(msg, f"'{col}'", "non-numeric", "rows 5 (respondent_id 1006)", "have 'often'")
    assert "(1 problem(s))" in msg  # not reported a second time as out of range


def test_fractional_item_code(raw_eu5):
    col = "collective_environment_2"
    raw_eu5[col] = raw_eu5[col].astype(float)
    raw_eu5.loc[21, col] = 1.5
    msg = error_of(raw_eu5)
    assert_names(msg, f"'{col}'", "rows 21", "have 1.5", "'volunteer4'")


def test_duplicate_respondent_id(raw_eu5):
    raw_eu5.loc[10, "respondent_id"] = raw_eu5.loc[4, "respondent_id"]
    msg = error_of(raw_eu5)
    assert_names(
        msg,
        "'respondent_id'",
        "duplicate respondent id",
        "2 row(s): rows 4, 10",
        "(respondent_id 1005, 1005)",
    )


def test_missing_respondent_id(raw_eu5):
    raw_eu5["respondent_id"] = raw_eu5["respondent_id"].astype(float)
    raw_eu5.loc[[6, 90], "respondent_id"] = np.nan
    msg = error_of(raw_eu5)
    assert_names(msg, "'respondent_id'", "missing respondent id", "2 row(s): rows 6, 90")
    assert "duplicate" not in msg  # two missing ids are not a duplicate


def test_unknown_country(raw_eu5):
    raw_eu5.loc[8, "country"] = "XX"
    raw_eu5.loc[150, "country"] = "UK"
    msg = error_of(raw_eu5)
    assert_names(
        msg,
        "'country'",
        "unknown level(s) ['UK', 'XX']",
        "2 row(s): rows 8, 150",
        "(respondent_id 1009, 1151)",
        "have 'XX', 'UK'",
        "['CZ', 'DK', 'DE', 'FR', 'GB']",
    )


def test_missing_country(raw_eu5):
    raw_eu5.loc[33, "country"] = None
    msg = error_of(raw_eu5)
    assert_names(msg, "'country'", "'<missing>'", "rows 33")


def test_country_level_with_no_respondents(raw_eu5, n_per_country):
    no_dk = raw_eu5[raw_eu5["country"] != "DK"]
    assert len(no_dk) == 4 * n_per_country
    msg = error_of(no_dk)
    assert_names(msg, "column 'country': level(s) ['DK'] named in the codebook have no respondents")


def test_negative_weight(raw_eu5):
    raw_eu5.loc[9, "weight"] = -0.5
    msg = error_of(raw_eu5)
    assert_names(msg, "'weight'", "negative weight", "rows 9 (respondent_id 1010)", "have -0.5")


def test_zero_weight_is_allowed(raw_eu5):
    raw_eu5.loc[9, "weight"] = 0.0
    assert cb.Survey.from_frame(raw_eu5, "eu5_2008").frame["weight"].iloc[9] == 0.0


def test_missing_weight(raw_eu5):
    raw_eu5.loc[[11, 12], "weight"] = np.nan
    msg = error_of(raw_eu5)
    assert_names(
        msg, "'weight'", "missing weight", "2 row(s): rows 11, 12", "(respondent_id 1012, 1013)"
    )


def test_non_numeric_weight(raw_eu5):
    raw_eu5["weight"] = raw_eu5["weight"].astype(object)
    raw_eu5.loc[2, "weight"] = "heavy"
    msg = error_of(raw_eu5)
    assert_names(msg, "'weight'", "non-numeric", "rows 2", "have 'heavy'")


def test_age_out_of_range(raw_eu5):
    raw_eu5.loc[12, "age"] = 12
    raw_eu5.loc[40, "age"] = 150
    msg = error_of(raw_eu5)
    assert_names(
        msg,
        "'age'",
        "outside [18, 110]",
        "2 row(s): rows 12, 40",
        "(respondent_id 1013, 1041)",
        "have 12, 150",
        "missing codes are [999]",
    )


def test_binary_demographic_with_value_two(raw_eu5):
    raw_eu5.loc[13, "female"] = 2
    msg = error_of(raw_eu5)
    assert_names(
        msg,
        "'female'",
        "other than 0/1",
        "rows 13 (respondent_id 1014)",
        "have 2",
        "missing codes are [9]",
    )


def test_several_problems_reported_in_one_error(raw_eu5):
    raw_eu5.loc[3, "efficacy_safety"] = 6
    raw_eu5.loc[10, "respondent_id"] = raw_eu5.loc[4, "respondent_id"]
    raw_eu5.loc[9, "weight"] = -1.0
    raw_eu5.loc[8, "country"] = "XX"
    raw_eu5.loc[12, "age"] = 12
    raw_eu5.loc[13, "urban"] = 2
    msg = error_of(raw_eu5)
    assert "(6 problem(s))" in msg
    assert msg.count("\n  - ") == 6
    assert_names(
        msg,
        "'efficacy_safety'",
        "rows 3",
        "have 6",
        "'respondent_id'",
        "rows 4, 10",
        "'weight'",
        "rows 9",
        "have -1.0",
        "'country'",
        "rows 8",
        "have 'XX'",
        "'age'",
        "rows 12",
        "have 12",
        "'urban'",
        "rows 13",
        "have 2",
    )


def test_rows_are_positions_not_index_labels(raw_eu5):
    shuffled = raw_eu5.iloc[::-1]  # index labels now run 199 .. 0
    shuffled = shuffled.copy()
    shuffled.loc[195, "efficacy_health"] = 7  # label 195 sits at position 4
    msg = error_of(shuffled)
    assert_names(msg, "'efficacy_health'", "1 row(s): rows 4 (respondent_id 1196)", "have 7")


# ---------------------------------------------------------------------------- what validation keeps


@pytest.fixture(scope="module")
def survey(raw_eu5_session):
    return cb.Survey.from_frame(raw_eu5_session, "eu5_2008")


def test_missing_codes_become_nan(survey, raw_eu5_session, eu5):
    for col in eu5.item_columns:
        is_code = raw_eu5_session[col].isin([8, 9]).to_numpy()
        assert is_code.sum() == 12
        np.testing.assert_array_equal(survey.frame[col].isna().to_numpy(), is_code)
    is_code = (raw_eu5_session["age"] == 999).to_numpy()
    assert is_code.sum() == 4
    np.testing.assert_array_equal(survey.frame["age"].isna().to_numpy(), is_code)


def test_missing_reasons_kept_with_counts(survey, raw_eu5_session, eu5, n_per_country):
    reasons = survey.missing_reasons
    expected_columns = [
        "age",
        *(d.column for d in eu5.demographics if d.type == "binary"),
        *eu5.item_columns,
    ]
    assert list(reasons.columns) == expected_columns
    for col in eu5.item_columns:
        assert reasons[col].value_counts().to_dict() == {"dont_know": 8, "refused": 4}
        np.testing.assert_array_equal(
            (reasons[col] == "dont_know").fillna(False).to_numpy(),
            (raw_eu5_session[col] == 8).to_numpy(),
        )
        np.testing.assert_array_equal(
            (reasons[col] == "refused").fillna(False).to_numpy(),
            (raw_eu5_session[col] == 9).to_numpy(),
        )
    assert reasons["age"].value_counts().to_dict() == {"refused": 4}
    assert reasons["female"].value_counts().to_dict() == {"refused": 3}
    # answered cells have no reason
    answered = survey.frame["efficacy_safety"].notna().to_numpy()
    assert answered.sum() == 5 * n_per_country - 12
    assert reasons["efficacy_safety"][answered].isna().all()


def test_item_nonresponse_counts_reasons(survey, n_per_country):
    table = survey.item_nonresponse().set_index("column")
    row = table.loc["collective_safety_2"]
    assert (row["missing"], row["dont_know"], row["refused"]) == (12, 8, 4)
    assert row["share"] == pytest.approx(12 / (5 * n_per_country))


def test_no_row_dropped_and_order_kept(raw_eu5, n_per_country):
    rng = np.random.default_rng(7)
    shuffled = raw_eu5.iloc[rng.permutation(len(raw_eu5))]
    # a respondent who refused every item is still a respondent
    first = shuffled.index[0]
    item_columns = cb.load_codebook("eu5_2008").item_columns
    shuffled.loc[first, item_columns] = 9
    s = cb.Survey.from_frame(shuffled, "eu5_2008")
    assert s.n_respondents == len(raw_eu5) == 5 * n_per_country
    assert s.frame["respondent_id"].tolist() == shuffled["respondent_id"].tolist()
    assert s.frame.index.equals(pd.RangeIndex(len(raw_eu5)))
    assert s.frame.loc[0, item_columns].isna().all()
    assert (s.missing_reasons.loc[0, item_columns] == "refused").all()
    assert s.missing_reasons.index.equals(s.frame.index)


def test_valid_codes_unchanged(survey, raw_eu5_session, eu5, n_per_country):
    checked = 0
    for col in eu5.item_columns + eu5.demographic_columns:
        raw = raw_eu5_session[col]
        valid = ~raw.isin([8, 9, 999])
        assert survey.frame[col].dtype == np.float64
        np.testing.assert_array_equal(
            survey.frame[col][valid].to_numpy(), raw[valid].to_numpy(dtype=float)
        )
        checked += int(valid.sum())
    assert checked > 30 * 5 * n_per_country
    assert survey.frame["country"].tolist() == raw_eu5_session["country"].tolist()
    np.testing.assert_array_equal(survey.frame["weight"], raw_eu5_session["weight"])
    np.testing.assert_array_equal(survey.frame["respondent_id"], raw_eu5_session["respondent_id"])


def test_columns_outside_the_codebook_are_kept(raw_eu5):
    raw_eu5["interviewer"] = [f"int{i % 7}" for i in range(len(raw_eu5))]
    s = cb.Survey.from_frame(raw_eu5, "eu5_2008")
    assert s.frame["interviewer"].tolist() == raw_eu5["interviewer"].tolist()


def test_validate_frame_does_not_modify_its_input(raw_eu5, eu5):
    before = raw_eu5.copy()
    validate_frame(raw_eu5, eu5)
    pd.testing.assert_frame_equal(raw_eu5, before)
