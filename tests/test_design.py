"""Designing the next wave: the plan, its simulator, resumable studies and the assurance."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pytest
from scipy import stats

import coprod_bayes as cb
from coprod_bayes.design import WavePlan, assurance, simulate_plan


def test_plan_is_checked():
    with pytest.raises(cb.SpecError, match="per_arm"):
        WavePlan(per_arm=1)
    with pytest.raises(cb.SpecError, match="contrast 'C'"):
        WavePlan(contrast="C")
    assert WavePlan().key("nudge_experiment") != WavePlan(effect=0.2).key("nudge_experiment")


def test_cache_key_covers_what_decides_a_simulation():
    """A rerun with another seed, other draws or a changed prior is another study: its
    simulations go to another folder, not read from the old one."""
    from coprod_bayes.spec import load_spec

    plan = WavePlan()
    spec = load_spec("nudge_experiment")
    base = plan.key(spec)
    assert base == plan.key("nudge_experiment") == plan.key(spec, 0, None, None)
    changed = replace(spec, priors=replace(spec.priors, coefficient_sd=0.3))
    assert len({base, plan.key(spec, seed=1), plan.key(spec, draws=500), plan.key(spec, tune=300),
                plan.key(changed)}) == 5


def test_simulated_plan_has_the_planned_effects():
    """With many respondents the arms' means show the planned effects (outcome SD 1 within
    arm): each cell mean has SE 1/sqrt(20000) = 0.007, a difference 0.01."""
    plan = WavePlan(areas=2, per_arm=20_000, effect=0.1, effect_b=0.05, interaction=-0.04,
                    area_sd=0.0)
    d = simulate_plan(plan, 1)
    m = d.groupby(["nudge_a", "nudge_b"])["y"].mean()
    assert m[(1, 0)] - m[(0, 0)] == pytest.approx(0.1, abs=0.04)
    assert m[(0, 1)] - m[(0, 0)] == pytest.approx(0.05, abs=0.04)
    assert m[(1, 1)] - m[(1, 0)] - m[(0, 1)] + m[(0, 0)] == pytest.approx(-0.04, abs=0.06)
    assert d.groupby(["group", "nudge_a", "nudge_b"]).size().eq(20_000).all()
    assert d.groupby("nudge_a")["y"].std().between(0.97, 1.06).all()


def test_assurance_resumes_from_finished_simulations(tmp_path):
    """Finished simulations on disk are read, not rerun: with every result present no
    cluster starts, and the table counts what the files say."""
    plan = WavePlan(per_arm=50)
    folder = tmp_path / plan.key("nudge_experiment")
    folder.mkdir()
    p = np.r_[np.full(7, 0.99), np.full(3, 0.5)]
    for i, pi in enumerate(p):
        conv = i != 0  # an unconverged fit counts as not credible
        (folder / f"sim_{i:06d}.json").write_text(json.dumps(
            {"sim": i, "per_arm": 50, "p_positive": pi, "mean": 0.1, "sd": 0.05,
             "converged": conv, "max_rhat": 1.0, "divergences": 0}))
    res = assurance(plan, sims=10, cache_dir=tmp_path, address="tcp://127.0.0.1:1")
    row = res.iloc[0]
    assert row["assurance"] == pytest.approx(0.6) and row["not_converged"] == 1
    assert row["se"] == pytest.approx(np.sqrt(0.6 * 0.4 / 10))
    assert json.loads((folder / "plan.json").read_text())["per_arm"] == 50


@pytest.mark.slow
def test_assurance_matches_the_power_of_the_equivalent_z_test(tmp_path):
    """With no area differences and weakly informative priors, P(effect > 0 | data) > 0.95
    is close to a one-sided z-test at 5%; its power for nudge A's main effect averaged over
    4 areas of 100 per arm (SE 1/sqrt(400) = 0.05) and d = 0.1 is Phi(2 - 1.645) = 0.64.
    The assurance from 100 simulated surveys (Monte Carlo SE about 0.05) is within 3 SE of
    it, and at 400 per arm (power 0.99) within 3 SE of that (SE floored at 0.01)."""
    plan = WavePlan(areas=4, per_arm=100, effect=0.1, area_sd=0.0)
    res = assurance(plan, per_arm=[100, 400], sims=100, cache_dir=tmp_path, workers=2)
    for n, row in res.set_index("per_arm").iterrows():
        se = 1 / np.sqrt(4 * n)
        power = stats.norm.cdf(0.1 / se - stats.norm.ppf(0.95))
        assert abs(row["assurance"] - power) < 3 * max(row["se"], 0.01), (n, row, power)
        assert row["not_converged"] <= 2
    # the study resumes: a second call reads the files
    again = assurance(plan, per_arm=[100, 400], sims=100, cache_dir=tmp_path, workers=2)
    assert again["assurance"].tolist() == res["assurance"].tolist()
    assert asdict(replace(plan, per_arm=100)) == {k: v for k, v in json.loads(
        (tmp_path / replace(plan, per_arm=100).key("nudge_experiment") / "plan.json")
        .read_text()).items() if k not in ("spec", "seed")}
