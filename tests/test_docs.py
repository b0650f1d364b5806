"""The documentation: the site builds without warnings, and every worked example in
docs/examples runs (in its quick mode)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "docs" / "examples").glob("*.py"))


def test_docs_site_builds_without_warnings(tmp_path):
    """``mkdocs build --strict`` (the README's docs command) turns every warning (a broken
    link, a page not in the nav, a docstring mkdocstrings cannot parse) into an error."""
    pytest.importorskip("mkdocs")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                        str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                       env=env, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "WARNING" not in r.stderr, r.stderr
    assert (tmp_path / "site" / "api" / "index.html").exists()
    # the spec files the model pages include (pymdownx.snippets) are in the pages
    for page in MODEL_PAGES:
        html = (tmp_path / "site" / page.removesuffix(".md") / "index.html").read_text()
        assert "--8&lt;" not in html and "[sampler]" in html, page


#: examples run in this process by a test of their own, which also checks their values
IN_PROCESS = {"lavaan_first_model"}


def _example(name: str):
    sys.path.insert(0, str(ROOT / "docs" / "examples"))
    try:
        import importlib

        mod = importlib.import_module(name)
    finally:
        sys.path.pop(0)
    mod.QUICK = True
    return mod


@pytest.mark.parametrize("script", [p for p in EXAMPLES if p.stem not in IN_PROCESS],
                         ids=[p.stem for p in EXAMPLES if p.stem not in IN_PROCESS])
def test_example_runs(script, tmp_path):
    # run in a folder of its own: an example may write its table and figure into the cwd
    r = subprocess.run([sys.executable, str(script), "--quick"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    if script.stem == "table3_from_python":
        assert (tmp_path / "table3.md").read_text().count("|") > 50
        assert (tmp_path / "table3_efficacy.png").stat().st_size > 10_000


def test_lavaan_example_recovers_what_it_simulated(monkeypatch):
    """The lavaan example in its quick mode (300 respondents, 300 draws per chain): every
    standardised loading, factor correlation, path and defined effect within 4 posterior
    SDs of the value the example simulated (quick fits may fall short of the ESS rule,
    not of this)."""
    monkeypatch.chdir(ROOT)
    ex = _example("lavaan_first_model")
    monkeypatch.setattr(ex, "N", 300)
    monkeypatch.setattr(ex, "DRAWS", {"draws": 300, "tune": 300})
    out = ex.main()
    std = out["cfa_std"].set_index(["lhs", "op", "rhs"])
    truth = {}
    for f, lams in ex.LOADINGS.items():
        for j, lam in enumerate(lams):
            truth[(f, "=~", f"{f[0]}{j + 1}")] = lam
    names = list(ex.LOADINGS)
    for i in range(3):
        for k in range(i + 1, 3):
            truth[(names[i], "~~", names[k])] = ex.CORR[i, k]
    std2 = out["sem_std"].set_index(["lhs", "op", "rhs"])
    truth2 = {("M", "~", "X"): ex.A, ("Y", "~", "M"): ex.B, ("Y", "~", "X"): ex.C,
              ("indirect", ":=", "a*b"): ex.A * ex.B,
              ("total", ":=", "c + a*b"): ex.C + ex.A * ex.B}
    for table, want in ((std, truth), (std2, truth2)):
        for key, value in want.items():
            row = table.loc[key]
            assert abs(row["mean"] - value) < 4 * row["sd"], (key, value, row.to_dict())


def test_own_survey_example_shows_the_errors_and_reverses_the_reverse_keyed_item():
    import coprod_bayes as cb

    own_survey = _example("own_survey")
    out = own_survey.main()
    assert "column 'inv2'" in out["error"] and "rows 4, 17 (resp 5, 18) have 7, 7" in out["error"]
    assert "column 'age'" in out["error"] and "have 150" in out["error"]
    s = out["survey"]
    # eff3 is keyed the other way: scored, it correlates positively with eff1
    sc = s.scored_items()
    raw = s.frame
    assert sc[["eff1", "eff3"]].corr().iloc[0, 1] > 0.2
    assert raw[["eff1", "eff3"]].corr().iloc[0, 1] < -0.2
    items = list(own_survey.CODEBOOK["items"])
    assert (s.missing_reasons.stack() == "dont_know").sum() == (
        own_survey.simulate_file()[items] == 8).sum().sum()
    assert isinstance(out["alphas"], type(cb.classical.alphas(s)))


def test_docstring_examples_run():
    """Every docstring example that does not sample (those that do are marked +SKIP) gives
    the output it shows."""
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "--doctest-modules",
                        str(ROOT / "src" / "coprod_bayes"), "-p", "no:randomly", "-p",
                        "no:cacheprovider", "-o", "addopts="], cwd=ROOT, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-2000:]


MODEL_PAGES = ["regression.md", "areas.md", "sem.md", "mediation.md", "waves.md", "design.md"]
#: the first five sections of every model page, in this order (the user's guide's promise:
#: the question, the model in equations, priors and why, the spec file, reading the table
#: beside the frequentist one)
SECTIONS = ("The question", "The model", "Priors and why", "The spec file", "Reading")


def _sections(text: str) -> list[tuple[str, str]]:
    """The page's level-2 sections (heading, body), fenced code blocks left out of the
    search for headings."""
    prose = re.sub(r"^```.*?^```", lambda m: re.sub(r"[^\n]", " ", m.group(0)), text,
                   flags=re.M | re.S)  # blanked, same length: positions stay those of text
    heads = [(m.group(1), m.start()) for m in re.finditer(r"^## (.+)$", prose, re.M)]
    return [(h, text[a:(heads[i + 1][1] if i + 1 < len(heads) else len(text))])
            for i, (h, a) in enumerate(heads)]


@pytest.mark.parametrize("page", MODEL_PAGES)
def test_model_page_follows_the_guide(page):
    """Each model page opens with the question, the model, its priors and why, the spec
    file (the built-in TOML itself, included from models/ when the site is built) and how to
    read its table beside the frequentist one, in that order; and is in the site's nav."""
    path = ROOT / "docs" / page
    assert path.exists(), page
    sections = _sections(path.read_text())
    heads = [h for h, _ in sections]
    assert len(heads) >= len(SECTIONS), (page, heads)
    for want, got in zip(SECTIONS, heads, strict=False):  # heads may be longer
        assert got.startswith(want), (page, heads[:len(SECTIONS)])
    spec_body = sections[3][1]
    included = re.findall(r'^--8<-- "(models/[^"]+\.toml)"$', spec_body, re.M)
    assert included, f"{page}: its spec file section includes no models/*.toml"
    for f in included:
        assert (ROOT / f).is_file(), (page, f)
    assert f" {page}" in (ROOT / "mkdocs.yml").read_text(), f"{page} is not in the nav"


def test_page_figures_were_drawn_by_the_package_from_the_embedded_data():
    """Every image on a page is in docs/figures/manifest.json (written by docs/figures.py,
    which draws them with the package), drawn from the embedded data: the manifest's data
    fingerprint is that of cb.simulate() today. Every model page shows at least one."""
    import coprod_bayes as cb
    from coprod_bayes.fit import data_fingerprint

    manifest = json.loads((ROOT / "docs" / "figures" / "manifest.json").read_text())
    assert manifest["fingerprint"] == data_fingerprint(cb.simulate())
    shown = {}
    for page in sorted((ROOT / "docs").glob("*.md")):
        images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page.read_text())
        shown[page.name] = images
        for img in images:
            assert img.startswith("figures/"), (page.name, img)
            name = img.removeprefix("figures/")
            assert name in manifest["figures"], (page.name, name)
            assert (ROOT / "docs" / img).stat().st_size > 10_000, img
    for page in MODEL_PAGES:
        assert shown.get(page), f"{page} shows no figure"


def _public_objects():
    import inspect

    import coprod_bayes as cb
    import coprod_bayes.classical as classical
    import coprod_bayes.design as design
    import coprod_bayes.plot as plot

    for mod in (cb, classical, plot, design):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            yield f"{mod.__name__}.{name}", obj, None
            if inspect.isclass(obj):
                for m, v in vars(obj).items():
                    if not m.startswith("_") and (callable(v) or isinstance(v, property)):
                        yield f"{mod.__name__}.{name}.{m}", v, obj


def test_every_public_name_has_a_complete_docstring():
    """Public functions and classes: a docstring with Parameters (when they take any),
    Returns (functions), and Examples; public methods: a docstring, with Parameters when
    they take any; properties: a docstring."""
    import inspect

    missing = []
    for name, obj, owner in _public_objects():
        f = obj.fget if isinstance(obj, property) else obj
        doc = inspect.getdoc(f) or ""
        if not doc.strip():
            missing.append(f"{name}: no docstring")
            continue
        if isinstance(obj, property):
            continue
        try:
            params = [p for p in inspect.signature(f).parameters
                      if p not in ("self", "cls", "args", "kwargs")]
        except (TypeError, ValueError):
            params = []
        if inspect.isclass(f) and issubclass(f, Exception):
            params = []
        need = ["Parameters"] if params else []
        if owner is None:
            need.append("Examples")
            if inspect.isfunction(f):
                need.append("Returns")
        gaps = [s for s in need if s not in doc]
        if gaps:
            missing.append(f"{name}: {', '.join(gaps)}")
    assert not missing, "\n".join(missing)


def test_calibration_page_is_what_the_script_writes_today():
    """docs/calibration.md is benchmarks/calibration.py's page of today's simulator (a
    change to the simulator or its targets without regenerating the page fails here), and
    every large-n target on it is met."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import calibration
    finally:
        sys.path.pop(0)
    table = calibration.calibration_table()
    page = (ROOT / "docs" / "calibration.md").read_text()
    assert page == calibration.markdown_page(table)
    assert table.loc[table["met_large_n"].notna(), "met_large_n"].astype(bool).all()
