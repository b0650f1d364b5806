"""Posterior country means and rankings, the figures, and the main job's report."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import coprod_bayes as cb
from coprod_bayes import plot
from coprod_bayes.cli import app
from coprod_bayes.country import country_means
from coprod_bayes.engines.means import rank_probabilities
from coprod_bayes.summaries import compare_layout, to_latex, to_markdown

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def survey():
    return cb.simulate(n_per_country=400, seed=51)


@pytest.fixture(scope="module")
def means(survey):
    return country_means(survey, "collective")


@pytest.fixture(scope="module")
def table3(survey):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        return cb.fit("table3_collective", survey, draws=500, tune=500, seed=3)


def test_country_means_agree_with_weighted_means(means):
    """~400 respondents per country, index SD ~21: a mean's SE is ~1.1 points. Partial
    pooling across five well-separated countries moves a mean by far less than that, so the
    posterior mean lies within 0.5 points of the weighted mean."""
    s = means.summary()
    assert means.verdict.converged
    np.testing.assert_allclose(s["mean"], s["classical_mean"], atol=0.5)
    assert (s["lower"] < s["mean"]).all() and (s["mean"] < s["upper"]).all()
    width = s["upper"] - s["lower"]
    classical_width = s["classical_upper"] - s["classical_lower"]
    assert ((width / classical_width) > 0.6).all() and ((width / classical_width) < 1.4).all()


def test_country_means_plot_shows_the_summary(means):
    """The figure's marks are the summary's posterior and classical means, and the legend
    says whether the classical means were weighted."""
    from dataclasses import replace

    import matplotlib.pyplot as plt

    s = means.summary()
    for weighted, label in ((True, "weighted mean, 95% CI"), (False, "mean, 95% CI")):
        fig = plot.country_means(replace(means, weighted=weighted))
        ax = fig.axes[0]
        assert ax.get_legend_handles_labels()[1] == ["posterior, 95% HDI", label]
        # the two errorbars' marks (matplotlib keeps them as an object array)
        xs = [np.asarray(c.lines[0].get_xdata(), float) for c in ax.containers]
        np.testing.assert_allclose(np.sort(xs[0]), np.sort(s["mean"]))
        np.testing.assert_allclose(np.sort(xs[1]), np.sort(s["classical_mean"]))
        plt.close(fig)


def test_rankings_are_probabilities(means):
    r = means.rankings()
    by_country = r.groupby("country")["probability"].sum()
    by_rank = r.groupby("rank")["probability"].sum()
    np.testing.assert_allclose(by_country, 1.0)
    np.testing.assert_allclose(by_rank, 1.0)
    top = r.loc[r.groupby("country")["probability"].idxmax()].set_index("country")["rank"]
    # the simulator's collective ordering CZ > DE > DK > GB > FR
    assert top.to_dict() == {"CZ": 1, "DE": 2, "DK": 3, "GB": 4, "FR": 5}


def test_rank_probabilities_by_hand():
    draws = np.array([[3.0, 1.0, 2.0], [1.0, 3.0, 2.0], [3.0, 2.0, 1.0], [2.0, 1.0, 3.0]])
    r = rank_probabilities(draws, ["a", "b", "c"]).set_index(["group", "rank"])["probability"]
    assert r[("a", 1)] == 0.5 and r[("a", 2)] == 0.25 and r[("a", 3)] == 0.25
    assert r[("b", 1)] == 0.25 and r[("b", 3)] == 0.5
    assert r[("c", 1)] == 0.25 and r[("c", 2)] == 0.5


def test_slope_plot_shows_the_compare_table(table3, survey):
    classical = cb.classical.tables(survey)
    fig = plot.slopes(table3, "efficacy", classical)
    ax = fig.axes[0]
    cmp = table3.compare(classical).query("predictor == 'efficacy'")
    points = [line.get_xdata() for line in ax.lines if len(line.get_xdata()) == 5]
    assert any(np.allclose(p, cmp["post_mean"]) for p in points)
    assert any(np.allclose(p, cmp["ols_beta"]) for p in points)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(cmp["group"])
    grid = plot.slopes_grid(table3, classical)
    assert sum(a.get_visible() for a in grid.axes) == 9


def test_compare_layout_and_renderings(table3, survey):
    cmp = table3.compare(cb.classical.tables(survey))
    wide = compare_layout(cmp)
    assert list(wide.columns.get_level_values(0)[::2]) == survey.levels("country")
    row = cmp[(cmp.group == "GB") & (cmp.predictor == "efficacy")].iloc[0]
    cell = wide.loc["efficacy", ("GB", "Bayes")]
    assert cell.startswith(f"{row.post_mean:.3f} [{row.lower:.3f}, {row.upper:.3f}]")
    assert wide.loc["efficacy", ("GB", "OLS")] == f"{row.ols_beta:.3f}{row.ols_stars}"
    md = to_markdown(wide)
    assert md.splitlines()[0] == table3.verdict.headline
    assert "GB Bayes" in md
    assert to_latex(wide).startswith(f"% {table3.verdict.headline}")


def test_replicate_writes_a_report(survey, tmp_path):
    from coprod_bayes.report import replicate

    result = replicate(survey, tmp_path, quick=True, specs=["table3_collective"], mediation=False,
                       panels=False)
    text = result["report"].read_text()
    assert "synthetic" in text
    import html as html_lib

    for f in list(result["fits"].values()) + list(result["means"].values()):
        assert html_lib.escape(f.verdict.headline) in text
    # slopes, means & rankings x 3, and the checks: prior, posterior predictive, LOO
    assert text.count("data:image/png;base64,") == 1 + 2 * 3 + 3
    loo = pd.read_csv(tmp_path / "tables" / "table3_collective_loo.csv", index_col=0)
    assert set(loo.index) == {"complete pooling", "no pooling", "partial pooling"}
    assert (tmp_path / "fits" / "table3_collective.nc").exists()
    saved = pd.read_csv(tmp_path / "tables" / "table3_collective_compare.csv")
    assert len(saved) == 5 * 9 + 5
    again = cb.load_fit(tmp_path / "fits" / "table3_collective.nc")
    pd.testing.assert_frame_equal(again.summary(), result["fits"]["table3_collective"].summary())


def test_fit_command(tmp_path, survey):
    data = tmp_path / "s.csv"
    survey.to_raw().to_csv(data, index=False)
    res = CliRunner().invoke(app, ["fit", "table3_collective", "--data", str(data), "--out",
                                   str(tmp_path / "out"), "--draws", "300", "--format", "svg"])
    assert res.exit_code == 0, res.output
    first = res.output.strip().splitlines()[0]
    assert first.startswith(("Converged", "NOT CONVERGED"))
    assert (tmp_path / "out" / "table3_collective.nc").exists()
    svg = (tmp_path / "out" / "table3_collective_slopes.svg").read_text()
    assert svg.lstrip().startswith("<?xml")


def test_replicate_latent_mediation_section(tmp_path):
    """replicate(latent_mediation=True)'s section: the latent version's verdict, its table
    beside OLS on the person-level indexes (one context per country), saved as CSV. Short
    chains on a small survey: the layout, not the estimates (the slow tests of
    test_mediation_latent.py check those)."""
    import warnings
    from dataclasses import replace

    from coprod_bayes.report.html import HtmlReport
    from coprod_bayes.report.replicate import _latent_mediation_section
    from coprod_bayes.spec import load_spec

    s = cb.simulate(n_per_country=60, seed=8, person_level=True)
    rep, fits, timings = HtmlReport("t"), {}, {}
    for sub in ("tables", "figures"):
        (tmp_path / sub).mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        _latent_mediation_section(rep, s, tmp_path, {"draws": 150, "tune": 150}, timings, fits,
                                  spec=replace(load_spec("mediation_latent"),
                                               outcomes=("collective",)))
    f = fits["mediation_latent"]
    assert f.areas == ["all"] and sorted(f.groups) == ["CZ", "DE", "DK", "FR", "GB"]
    text = rep.render()
    import html as html_lib

    assert "latent version" in text and html_lib.escape(f.verdict.headline) in text
    saved = pd.read_csv(tmp_path / "tables" / "mediation_latent_compare.csv")
    assert set(saved["country"]) == set(f.groups) and set(saved["area"]) == {"all"}
    assert timings["mediation_latent"] > 0


def _attenuation_table():
    rng = np.random.default_rng(4)
    rows = [(g, p) for p in ("age", "efficacy", "gov_performance") for g in ("CZ", "DE", "GB")]
    t = pd.DataFrame(rows, columns=["group", "predictor"])
    t["latent_mean"] = rng.normal(0.2, 0.1, len(t))
    t["latent_lower"], t["latent_upper"] = t["latent_mean"] - 0.05, t["latent_mean"] + 0.07
    t["ols_beta"], t["ols_se"] = t["latent_mean"] - 0.06, 0.03
    t["index_mean"], t["index_sd"] = t["latent_mean"] - 0.05, 0.02
    t["attenuation"] = np.sign(t["latent_mean"]) * (t["latent_mean"] - t["ols_beta"])
    return t


def test_attenuation_figure_draws_the_tables_values():
    """Per predictor panel, the three series sit at the table's latent mean, index-based
    Bayesian mean and OLS beta, groups in the table's order from the top, with the
    latent interval's ends and the panel's mean attenuation in its title."""
    t = _attenuation_table()
    fig = plot.attenuation(t, verdict="NOT CONVERGED: R-hat 1.05")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == 3
    for ax, pred in zip(axes, ["age", "efficacy", "gov_performance"], strict=True):
        sub = t[t["predictor"] == pred]
        latent, index, ols = ax.containers
        x = [np.asarray(c.lines[0].get_xdata(), float) for c in (latent, index, ols)]
        np.testing.assert_allclose(x[0], sub["latent_mean"])
        np.testing.assert_allclose(x[1], sub["index_mean"])
        np.testing.assert_allclose(x[2], sub["ols_beta"])
        y = np.asarray(latent.lines[0].get_ydata(), float)
        np.testing.assert_allclose(y, [2.22, 1.22, 0.22])
        segs = latent.lines[2][0].get_segments()
        np.testing.assert_allclose([s[0][0] for s in segs], sub["latent_lower"])
        np.testing.assert_allclose([s[1][0] for s in segs], sub["latent_upper"])
        assert [tk.get_text() for tk in ax.get_yticklabels()] == list(sub["group"])
        assert f"attenuation {sub['attenuation'].mean():+.2f}" in ax.get_title(loc="left")
    assert any("NOT CONVERGED" in tx.get_text() for tx in fig.texts)
    with pytest.raises(cb.SpecError, match="lacks \\['ols_se'\\]"):
        plot.attenuation(t.drop(columns="ols_se"))
    # without the index-based fit: two series per panel
    assert len(plot.attenuation(t.drop(columns=["index_mean", "index_sd"])).axes[0].containers) == 2


def test_replicate_latent_section_sets_latent_slopes_beside_the_indexes(tmp_path):
    """replicate(latent=True)'s section on a reduced latent_collective (age and efficacy),
    short chains: the saved comparison holds OLS's betas (from the classical table), the
    index-based fit's posterior means and the latent fit's standardised slopes, with
    attenuation = sign(latent) x (latent - OLS); the report has the verdict and figure."""
    from dataclasses import replace

    from coprod_bayes.classical import tables
    from coprod_bayes.report.html import HtmlReport
    from coprod_bayes.report.replicate import _latent_section
    from coprod_bayes.spec import load_spec

    s = cb.simulate(n_per_country=60, seed=8, person_level=True)
    preds = ("age", "efficacy")
    classical = tables(s, predictors=list(preds))
    rep, timings = HtmlReport("t"), {}
    for sub in ("tables", "figures", "fits"):
        (tmp_path / sub).mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        index = cb.fit(replace(load_spec("table3_collective"), predictors=preds), s,
                       draws=150, tune=150)
        fits = {"table3_collective": index}
        _latent_section(rep, s, tmp_path, {"draws": 150, "tune": 150}, timings, fits,
                        classical, specs=[replace(load_spec("latent_collective"),
                                                  predictors=preds)])
    f = fits["latent_collective"]
    saved = pd.read_csv(tmp_path / "tables" / "latent_collective_compare.csv")
    assert len(saved) == 5 * 2 and set(saved["predictor"]) == set(preds)
    ols = classical["table3_collective"].rename(columns={"country": "group"})
    both = saved.merge(ols[["group", "predictor", "beta"]], on=["group", "predictor"])
    np.testing.assert_allclose(both["ols_beta"], both["beta"], rtol=0, atol=1e-12)
    idx = index.summary("beta").rename(columns={"coef": "predictor"})
    both = saved.merge(idx[["group", "predictor", "mean"]], on=["group", "predictor"])
    np.testing.assert_allclose(both["index_mean"], both["mean"], rtol=0, atol=1e-12)
    st = f.standardized_paths()
    st = st[st["outcome"] == "collective"].astype({"group": str})
    both = saved.merge(st[["group", "predictor", "mean"]], on=["group", "predictor"])
    assert len(both) == 10
    np.testing.assert_allclose(both["latent_mean"], both["mean"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(saved["attenuation"], np.sign(saved["latent_mean"])
                               * (saved["latent_mean"] - saved["ols_beta"]), atol=1e-12)
    text = rep.render()
    import html as html_lib

    assert html_lib.escape(f.verdict.headline) in text and "latent scale" in text
    assert (tmp_path / "figures" / "latent_collective_attenuation.png").exists()
    # the saved fit reads back as the same latent spec's fit: spec, exclusions and the
    # comparison with OLS and the index-based fit
    again = cb.load_fit(tmp_path / "fits" / "latent_collective.nc")
    assert again.spec == f.spec and again.syntax == f.syntax and again.n_excluded == f.n_excluded
    pd.testing.assert_frame_equal(again.excluded, f.excluded)
    pd.testing.assert_frame_equal(again.compare(classical, index_fit=index),
                                  f.compare(classical, index_fit=index))
    assert timings["latent_collective"] > 0
