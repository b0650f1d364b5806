"""Codebooks: the built-in one, a user's own (six-point Likert, reverse keying), and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import coprod_bayes as cb
from coprod_bayes import SurveyDataError
from coprod_bayes.survey.codebook import builtin_codebooks, load_codebook

# ---------------------------------------------------------------------------- built-in


def test_builtin_codebook_is_listed():
    assert "eu5_2008" in builtin_codebooks()


def test_builtin_codebook_sizes(eu5):
    assert eu5.name == "eu5_2008"
    assert eu5.wave == "2008"
    assert eu5.id == "respondent_id"
    assert eu5.weight == "weight"
    assert len(eu5.items) == 33
    assert len(set(eu5.item_columns)) == 33
    assert eu5.group_columns == ["country"]
    assert eu5.group("country").levels == ("CZ", "DK", "DE", "FR", "GB")
    assert eu5.areas == ("safety", "environment", "health")
    assert eu5.demographic_columns == ["age", "female", "educated", "inactive", "urban"]


def test_builtin_codebook_items_per_construct_and_area(eu5):
    per_area = {
        "individual": 4,
        "collective": 2,
        "efficacy": 1,
        "conditions": 1,
        "gov_performance": 1,
        "gov_information": 1,
        "gov_consultation": 1,
    }
    assert set(eu5.constructs) == set(per_area)
    for construct, k in per_area.items():
        assert len(eu5.items_of(construct)) == 3 * k
        for area in eu5.areas:
            cols = [it.column for it in eu5.items_of(construct, area)]
            expected = (
                [f"{construct}_{area}"]
                if k == 1
                else [f"{construct}_{area}_{j}" for j in range(1, k + 1)]
            )
            assert cols == expected


def test_builtin_codebook_scales(eu5):
    freq = eu5.item("individual_safety_1").scale
    assert freq.name == "frequency3"
    assert freq.codes == (0, 1, 2)
    assert freq.labels == ("never", "sometimes", "often")
    assert freq.missing == {8: "dont_know", 9: "refused"}
    assert (freq.min, freq.max, freq.n_categories) == (0, 2, 3)
    assert eu5.item("collective_health_2").scale.name == "volunteer4"
    assert eu5.item("efficacy_environment").scale.codes == (0, 1, 2, 3)
    assert not any(it.reverse for it in eu5.items)
    age = eu5.demographics[0]
    assert (age.column, age.type, age.min, age.max, age.missing) == (
        "age",
        "numeric",
        18,
        110,
        {999: "refused"},
    )


def test_unknown_codebook_name_raises():
    with pytest.raises(SurveyDataError, match="no_such_wave"):
        load_codebook("no_such_wave")


# ---------------------------------------------------------------------------- a user's codebook

USER_YAML = """\
name: trust_panel
title: A six-point Likert panel without policy areas
id: pid
groups:
  group:
    levels: [control, treated]
scales:
  likert6:
    codes: [1, 2, 3, 4, 5, 6]
    labels: [strongly disagree, disagree, slightly disagree, slightly agree, agree, strongly agree]
    missing: {98: dont_know, 99: refused}
demographics:
  age: {type: numeric, min: 16, max: 99}
constructs:
  trust: {label: Trust in the council}
items:
  trust_1: {construct: trust, scale: likert6, label: The council keeps its promises}
  trust_2: {construct: trust, scale: likert6, reverse: true, label: The council wastes money}
  trust_3: {construct: trust, scale: likert6, label: The council listens}
  trust_4: {construct: trust, scale: likert6, reverse: true, label: The council ignores residents}
"""


def write_codebook(tmp_path, text, name="codebook.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def user_codebook(tmp_path):
    return load_codebook(write_codebook(tmp_path, USER_YAML))


def test_user_codebook_loads(user_codebook):
    c = user_codebook
    assert c.name == "trust_panel"
    assert c.id == "pid"
    assert c.weight is None
    assert c.areas == ()
    assert c.group_columns == ["group"]
    assert c.group("group").levels == ("control", "treated")
    assert c.item_columns == ["trust_1", "trust_2", "trust_3", "trust_4"]
    assert [it.reverse for it in c.items] == [False, True, False, True]
    assert [it.area for it in c.items] == [None] * 4
    scale = c.item("trust_2").scale
    assert scale.codes == (1, 2, 3, 4, 5, 6)
    assert scale.labels[0] == "strongly disagree" and scale.labels[-1] == "strongly agree"
    assert scale.missing == {98: "dont_know", 99: "refused"}
    assert c.columns == ["pid", "group", "age", "trust_1", "trust_2", "trust_3", "trust_4"]


def test_user_codebook_loads_from_str_path(tmp_path):
    path = write_codebook(tmp_path, USER_YAML)
    assert load_codebook(str(path)) == load_codebook(path)


@pytest.fixture
def user_frame():
    return pd.DataFrame(
        {
            "pid": [11, 12, 13, 14],
            "group": ["control", "treated", "control", "treated"],
            "age": [34, 51, 19, 77],
            "trust_1": [1, 6, 98, 3],
            "trust_2": [1, 6, 2, 99],
            "trust_3": [2, 5, 4, 6],
            "trust_4": [5, 98, 6, 1],
        }
    )


def test_scored_items_reverse_keyed_items(user_codebook, user_frame):
    s = cb.Survey.from_frame(user_frame, user_codebook)
    scored = s.scored_items()
    nan = np.nan
    expected = pd.DataFrame(
        {
            "trust_1": [1.0, 6.0, nan, 3.0],  # not reversed
            "trust_2": [6.0, 1.0, 5.0, nan],  # 7 - code
            "trust_3": [2.0, 5.0, 4.0, 6.0],
            "trust_4": [2.0, nan, 1.0, 6.0],
        }
    )
    pd.testing.assert_frame_equal(scored, expected)
    # scored_items(construct) selects the construct's items only; here all four
    pd.testing.assert_frame_equal(s.scored_items("trust"), expected)


def test_frame_keeps_raw_codes_of_reverse_keyed_items(user_codebook, user_frame):
    s = cb.Survey.from_frame(user_frame, user_codebook)
    assert s.frame["trust_2"].tolist()[:3] == [1.0, 6.0, 2.0]
    assert np.isnan(s.frame["trust_2"].iloc[3])
    assert s.frame["trust_4"].iloc[[0, 2, 3]].tolist() == [5.0, 6.0, 1.0]
    assert np.isnan(s.frame["trust_4"].iloc[1])
    assert s.frame["group"].tolist() == ["control", "treated", "control", "treated"]
    assert s.missing_reasons["trust_2"].tolist()[3] == "refused"
    assert s.missing_reasons["trust_4"].tolist()[1] == "dont_know"
    assert s.missing_reasons["trust_1"].tolist()[2] == "dont_know"
    assert sorted(s.missing_reasons.columns) == ["trust_1", "trust_2", "trust_4"]


def test_user_codebook_validates_its_own_codes(user_codebook, user_frame):
    bad = user_frame.copy()
    bad.loc[2, "trust_3"] = 0  # valid in the 2008 scales, not on a 1-6 Likert scale
    with pytest.raises(SurveyDataError) as err:
        cb.Survey.from_frame(bad, user_codebook)
    msg = str(err.value)
    assert "'trust_3'" in msg and "rows 2" in msg and "have 0" in msg
    assert "'likert6'" in msg


# ---------------------------------------------------------------------------- errors

LIKERT_BLOCK = (
    "    codes: [1, 2, 3, 4, 5, 6]\n"
    "    labels: [strongly disagree, disagree, slightly disagree, slightly agree, agree, "
    "strongly agree]\n"
)

# (case id, old text, new text, substrings the message must contain)
ERROR_CASES = [
    (
        "item key twice",
        "  trust_4: {construct",
        "  trust_3: {construct: trust, scale: likert6}\n  trust_4: {construct",
        ["'trust_3'", "twice", "lines 19 and 20"],
    ),
    (
        "item reuses a demographic's name",
        "  trust_4: {construct",
        "  age: {construct: trust, scale: likert6}\n  trust_4: {construct",
        ["['age']", "more than once"],
    ),
    (
        "item reuses the id's name",
        "id: pid",
        "id: trust_1",
        ["['trust_1']", "more than once"],
    ),
    (
        "group reuses an item's name",
        "  group:\n",
        "  trust_2:\n",
        ["['trust_2']", "more than once"],
    ),
    (
        "empty scale",
        LIKERT_BLOCK,
        "    codes: []\n",
        ["'likert6'", "0 code(s)", "at least two"],
    ),
    (
        "scale with one code",
        LIKERT_BLOCK,
        "    codes: [1]\n    labels: [agree]\n",
        ["'likert6'", "1 code(s) [1]", "at least two"],
    ),
    (
        "fewer labels than codes",
        ", strongly agree]",
        "]",
        ["'likert6'", "6 codes but 5 labels"],
    ),
    (
        "empty labels list",
        LIKERT_BLOCK,
        "    codes: [1, 2, 3, 4, 5, 6]\n    labels: []\n",
        ["'likert6'", "6 codes but 0 labels"],
    ),
    (
        "codes out of order",
        "codes: [1, 2, 3, 4, 5, 6]",
        "codes: [1, 2, 3, 5, 4, 6]",
        ["'likert6'", "[1, 2, 3, 5, 4, 6]", "increasing"],
    ),
    (
        "undefined scale",
        "  trust_3: {construct: trust, scale: likert6,",
        "  trust_3: {construct: trust, scale: likert7,",
        ["'trust_3'", "'likert7'", "not defined", "['likert6']"],
    ),
    (
        "undefined area",
        "  trust_3: {construct: trust, scale: likert6,",
        "  trust_3: {construct: trust, scale: likert6, area: health,",
        ["'trust_3'", "'health'", "areas []"],
    ),
    (
        "missing code that is also a valid code",
        "missing: {98: dont_know, 99: refused}",
        "missing: {6: dont_know, 99: refused}",
        ["'likert6'", "[6]", "both as a response and as a missing-value code"],
    ),
    (
        "item without a construct",
        "  trust_3: {construct: trust, scale: likert6,",
        "  trust_3: {scale: likert6,",
        ["'trust_3'", "names no construct"],
    ),
    (
        "unknown demographic type",
        "age: {type: numeric,",
        "age: {type: ordinal,",
        ["'age'", "'ordinal'"],
    ),
    (
        "no id",
        "id: pid\n",
        "",
        ["'id'", "missing"],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [case[1:] for case in ERROR_CASES],
    ids=[case[0] for case in ERROR_CASES],
)
def test_codebook_error_names_the_culprit(tmp_path, old, new, expected):
    assert USER_YAML.count(old) == 1, "the case must change the codebook exactly once"
    path = write_codebook(tmp_path, USER_YAML.replace(old, new))
    with pytest.raises(SurveyDataError) as err:
        load_codebook(path)
    msg = str(err.value)
    for part in expected:
        assert part in msg, f"{part!r} not in: {msg}"
    assert str(path) in msg  # says which file


def test_duplicate_scale_key_is_reported_too(tmp_path):
    text = USER_YAML.replace("scales:\n", "scales:\n  likert6:\n    codes: [0, 1]\n", 1)
    with pytest.raises(SurveyDataError, match=r"'likert6' twice \(lines 8 and 10\)"):
        load_codebook(write_codebook(tmp_path, text))


def test_dict_codebook_equals_yaml_codebook(tmp_path):
    import yaml

    from_file = load_codebook(write_codebook(tmp_path, USER_YAML))
    from_dict = load_codebook(yaml.safe_load(USER_YAML))
    assert from_dict == from_file
    assert load_codebook(from_file) is from_file


def test_codebook_errors_are_value_errors(tmp_path):
    path = write_codebook(tmp_path, USER_YAML.replace("codes: [1, 2, 3, 4, 5, 6]", "codes: [1]"))
    with pytest.raises(ValueError, match="likert6"):
        load_codebook(path)
