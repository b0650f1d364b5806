"""The lavaan model syntax: what it parses to, and errors that point at the token."""

from __future__ import annotations

import numpy as np
import pytest

from coprod_bayes.spec.syntax import ModelSyntaxError, parse_model

HS = """
# Holzinger-Swineford, lavaan's tutorial model
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 +
           x6                      ! continued on the next line
speed   =~ x7 + x8
         + x9
"""


def test_three_factor_cfa():
    m = parse_model(HS)
    assert m.latent == ["visual", "textual", "speed"]
    assert m.indicators("textual") == ["x4", "x5", "x6"]
    assert m.indicators("speed") == ["x7", "x8", "x9"]
    assert m.observed == [f"x{i}" for i in range(1, 10)]
    assert [p.name for p in m.parameters][:3] == ["visual=~x1", "visual=~x2", "visual=~x3"]
    assert all(p.fixed is None and p.label is None for p in m.parameters)
    assert m.parameters[3].line == 4 and m.parameters[5].line == 4


def test_mediation_with_labels_definitions_and_modifiers():
    m = parse_model("""
        X =~ x1 + x2 + x3; M =~ m1 + m2 + m3
        Y =~ y1 + 0.8*y2 + NA*y3
        M ~ a*X
        Y ~ b*M + c*X + age
        Y ~ 1
        x1 ~~ m1
        ind := a*b
        total := c + a*b
        a == b
    """)
    assert m.latent == ["X", "M", "Y"]
    loads = {p.rhs: p for p in m.parameters if p.op == "=~"}
    assert loads["y2"].fixed == 0.8 and loads["y3"].fixed is None
    assert {p.name: p.label for p in m.regressions} == {"M~X": "a", "Y~M": "b", "Y~X": "c",
                                                        "Y~age": None}
    assert [p.name for p in m.parameters if p.rhs == "1"] == ["Y~1"]
    assert [p.name for p in m.covariances] == ["x1~~m1"]
    assert m.constraints == (("a", "b"),)
    ind, total = m.definitions
    assert ind.labels == ("a", "b") and total.labels == ("c", "a", "b")
    draws = {"a": np.array([0.5, 0.2]), "b": np.array([0.4, 0.1]), "c": np.array([-0.1, 0.3])}
    np.testing.assert_allclose(total.evaluate(draws), [0.1, 0.32])
    assert "age" in m.observed


def test_same_label_twice_means_equal():
    m = parse_model("f =~ x1 + l*x2 + l*x3")
    assert [p.rhs for p in m.labels["l"]] == ["x2", "x3"]


@pytest.mark.parametrize(("text", "message", "line", "token"), [
    ("f =~ x1 + x2\ng ~~~ f", "'~ f' is not a variable name", 2, "~ f"),
    ("f =~ x1 + x2\ny ~ f +", "empty term", 2, "+"),
    ("f =~ x1 + x2\nf =~ x2", r"f =~ x2 was already given on line 1", 2, "x2"),
    ("f =~ x1 + 2x", "'2x' is not a variable name", 1, "2x"),
    ("f =~ f + x1", "cannot be measured by itself", 1, "f"),
    ("f =~ start(0.5)*x1 + x2", r"modifier 'start\(0.5\)'", 1, "start(0.5)"),
    ("f =~ a*x1 + x2\nind := a*zz", r"unknown label\(s\) \['zz'\]", 2, "zz"),
    ("f =~ a*x1 + x2\nind := exp(a)", "only \\+ - \\* / \\*\\*", 2, "exp(a)"),
    ("f =~ x1 + x2\n =~ x3", "nothing on the left", 2, "=~"),
    ("f =~ a*x1 + x2\ny ~ x1 + a*f\ny ~~ 1", "'1' \\(an intercept\\)", 3, "1"),
])
def test_errors_point_at_line_and_token(text, message, line, token):
    with pytest.raises(ModelSyntaxError, match=message) as e:
        parse_model(text)
    assert e.value.line_no == line
    shown, marker = str(e.value).splitlines()[1:3]
    start = marker.index("^")
    assert shown[start:start + len(token)] == token, (shown, marker)


def test_covariance_given_twice_either_way_round():
    with pytest.raises(ModelSyntaxError, match="already given"):
        parse_model("f =~ x1 + x2\ng =~ x3 + x4\nf ~~ g\ng ~~ f")


def test_label_clashing_with_a_variable():
    with pytest.raises(ModelSyntaxError, match="also a variable's name"):
        parse_model("f =~ x1 + x2*x3 + x2")
