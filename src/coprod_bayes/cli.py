"""The ``coprod-bayes`` command line. Only this module prints."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .errors import ConvergenceWarning, CoprodError

app = typer.Typer(
    name="coprod-bayes", no_args_is_help=True, add_completion=False,
    help="Bayesian multilevel models of citizen co-production surveys, beside the papers' "
         "classical tables. The bundled 2008 data are synthetic, calibrated to the published "
         "figures (the microdata are not public).",
)
# Without a terminal (CI, pipes) rich would wrap tables at 80 columns.
console = Console(width=None if Console().is_terminal else 160)
err = Console(stderr=True, width=None if Console(stderr=True).is_terminal else 160)

DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Survey file (.csv, .parquet, .sav, .dta); default: the "
                 "embedded calibrated simulation of the 2008 wave (seed 0)."),
]
CodebookOpt = Annotated[
    str, typer.Option("--codebook", help="Built-in codebook name or path to a YAML codebook.")
]


def _fail(error: Exception) -> None:
    err.print(f"[bold red]error:[/] {error}", markup=True, highlight=False)
    raise typer.Exit(code=1)


def _load(data: Path | None, codebook: str):
    from .survey.read import read_survey
    from .survey.simulate import simulate

    if data is None:
        return simulate(codebook=codebook, seed=0)
    return read_survey(data, codebook=codebook)


def _print_frame(df: pd.DataFrame, title: str, index: bool = True) -> None:
    table = Table(title=title, title_justify="left", show_lines=False)
    if index:
        table.add_column(str(df.index.name or ""), style="bold")
    for col in df.columns:
        table.add_column(str(col), justify="right")
    for idx, row in df.iterrows():
        cells = [_cell(v) for v in row]
        table.add_row(*([str(idx)] if index else []), *cells)
    console.print(table)


def _cell(v) -> str:
    if isinstance(v, float):
        if pd.isna(v):
            return ""
        return str(int(v)) if v.is_integer() and abs(v) >= 1 else f"{v:.3f}"
    return str(v)


def write_frame(df: pd.DataFrame, out: Path) -> None:
    """Write raw survey codes to ``out``; the format follows the extension."""
    suffix = out.suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        df.to_csv(out, index=False)
    elif suffix in (".parquet", ".pq"):
        df.to_parquet(out, index=False)
    elif suffix in (".sav", ".dta"):
        import pyreadstat

        plain = df.copy()
        for col in plain.columns:
            if isinstance(plain[col].dtype, pd.StringDtype):
                plain[col] = plain[col].astype(object)
        (pyreadstat.write_sav if suffix == ".sav" else pyreadstat.write_dta)(plain, str(out))
    else:
        raise CoprodError(f"unknown output format {suffix!r}; use .csv, .parquet, .sav or .dta")


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command()
def simulate(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv, .parquet, .sav or .dta")],
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    n_per_country: Annotated[int | None, typer.Option(
        "--n-per-country",
        help="Respondents per country (per local area for uk_panels_2011; default: the "
             "published sizes).")] = None,
    codebook: CodebookOpt = "eu5_2008",
) -> None:
    """Simulate a survey wave from the calibrated model and write its raw codes."""
    from .survey.simulate import simulate as _simulate

    try:
        size = ({"n_per_area": n_per_country} if codebook == "uk_panels_2011" and n_per_country
                else {"n_per_country": n_per_country})
        survey = _simulate(codebook=codebook, seed=seed, **size)
        write_frame(survey.to_raw(), out)
    except CoprodError as e:
        _fail(e)
    console.print(f"wrote {survey.n_respondents} simulated respondents to {out} "
                  f"(codebook {codebook}, seed {seed}); synthetic data calibrated to the "
                  "published figures")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="Survey file to check.")],
    codebook: CodebookOpt = "eu5_2008",
) -> None:
    """Check a survey file against its codebook; print a summary or the problems (exit 1)."""
    from .survey.read import read_survey

    try:
        survey = read_survey(file, codebook=codebook)
    except CoprodError as e:
        _fail(e)
    console.print(f"[bold green]valid[/]: {survey!r}")
    summary = survey.summary()
    for g in survey.codebook.group_columns:
        _print_frame(summary[g].set_index(g), f"Respondents per {g}")
    nr = summary["nonresponse"].set_index("column")
    nr["share"] = (100 * nr["share"]).round(1)
    _print_frame(nr.rename(columns={"share": "% missing"}), "Item non-response")


@app.command()
def tables(
    data: DataOpt = None,
    codebook: CodebookOpt = "eu5_2008",
    weighted: Annotated[bool, typer.Option(
        help="Weighted least squares with the survey weights.")] = False,
    out: Annotated[Path | None, typer.Option(
        help="Also write the tidy tables as CSV here.")] = None,
) -> None:
    """Print the papers' classical tables: Tables 2 and 3 (standardised OLS by country),
    alphas, country and area means."""
    from .classical.tables import paper_layout
    from .classical.tables import tables as _tables

    try:
        survey = _load(data, codebook)
        result = _tables(survey, weighted=weighted)
    except CoprodError as e:
        _fail(e)
    source = survey.source or str(data)
    console.print(f"[bold]{survey!r}[/]  source: {source}")
    if data is None:
        console.print("[italic]Synthetic data: the calibrated simulation of the 2008 wave "
                      "(the real microdata are not public).[/]")
    titles = {"table2_individual": "Table 2: individual co-production, standardised OLS betas",
              "table3_collective": "Table 3: collective co-production, standardised OLS betas"}
    for name, title in titles.items():
        _print_frame(paper_layout(result[name]),
                     f"{title} (* p<0.10, ** p<0.05, *** p<0.01){' weighted' if weighted else ''}")
    _print_frame(result["alphas"].set_index("index"), "Cronbach's alpha")
    cm = result["country_means"].pivot(index="country", columns="index", values="mean")
    cm = cm.reindex(survey.levels("country"))
    _print_frame(cm, "Weighted country means of the indexes (0-100)")
    _print_frame(result["area_means"].pivot(index="area", columns="index", values="mean"),
                 "Weighted area means of the indexes (0-100)")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, frame in result.items():
            frame.to_csv(out / f"{name}.csv", index=False)
        console.print(f"wrote tidy tables to {out}/")


@app.command()
def replicate(
    data: DataOpt = None,
    out: Annotated[Path, typer.Option(
        help="Folder for the report, fits, figures, tables.")] = Path("report"),
    quick: Annotated[bool, typer.Option(
        help="Short chains: to try the pipeline, not to read.")] = False,
    codebook: CodebookOpt = "eu5_2008",
    latent_mediation: Annotated[bool, typer.Option(
        help="Also the latent version of the mediation pathway beside the index version "
             "(about 47 minutes for both outcomes on 2 cores).")] = False,
    latent: Annotated[bool, typer.Option(
        help="Also Tables 2-3 on the latent scale (latent_individual, latent_collective) "
             "beside OLS on the indexes: the attenuation (about 28 minutes for both on 2 "
             "cores).")] = False,
) -> None:
    """The main job: classical tables, every built-in spec, comparisons, plots and an HTML
    report (on the embedded calibrated survey unless --data is given)."""
    from .report.replicate import replicate as _replicate

    try:
        survey = _load(data, codebook)
        console.print(f"[bold]{survey!r}[/]")
        if data is None:
            console.print("[italic]Synthetic data: the calibrated simulation of the 2008 wave "
                          "(the real microdata are not public).[/]")
        with console.status("fitting the built-in models ..."):
            result = _replicate(survey, out, quick=quick, latent_mediation=latent_mediation,
                                 latent=latent)
    except CoprodError as e:
        _fail(e)
    table = Table(title="Fits", title_justify="left")
    for col in ("analysis", "seconds", "verdict"):
        table.add_column(col)
    verdicts = {**{k: f.verdict for k, f in result["fits"].items()},
                **{f"means_{k}": m.verdict for k, m in result["means"].items()}}
    for name, v in verdicts.items():
        style = "green" if v.converged else "bold red"
        table.add_row(name, f"{result['timings'][name]:.0f}", f"[{style}]{v.headline}[/]")
    console.print(table)
    console.print(f"report: {result['report']}")
    if not all(v.converged for v in verdicts.values()):
        err.print("[bold red]Some fits did not converge: see the report before reading them.[/]")


def _save_and_compare(result, classical, out: Path):
    """Write the fit and its comparison with OLS to ``out``, print the verdict; the
    comparison."""
    out.mkdir(parents=True, exist_ok=True)
    name = result.spec.name
    result.save(out / f"{name}.nc")
    cmp = result.compare(classical)
    cmp.to_csv(out / f"{name}_compare.csv", index=False)
    style = "green" if result.verdict.converged else "bold red"
    console.print(f"[{style}]{result.verdict.headline}[/]")
    return cmp


def _latent_report(result, classical, out: Path) -> None:
    """A latent spec's verdict and its standardised slopes beside OLS on the indexes."""
    name = result.spec.name
    cmp = _save_and_compare(result, classical, out)
    if result.n_excluded:
        console.print(f"{result.n_excluded} respondents without every demographic are not in "
                      "the model (listed in fit.excluded)")
    wide = cmp.pivot(index="predictor", columns="group", values="latent_mean").round(3)
    _print_frame(wide, f"{name}: latent standardised slopes (posterior means)")
    wide = cmp.pivot(index="predictor", columns="group", values="attenuation").round(3)
    _print_frame(wide, f"{name}: latent minus OLS on the indexes, toward the slope's sign")
    console.print(f"wrote {out}/{name}.nc, {name}_compare.csv")


def _mediation_report(result, survey, out: Path, figure_format: str) -> None:
    """A mediation fit's verdict, its indirect effects beside the bootstrap, and figures."""
    import matplotlib.pyplot as plt

    from . import plot
    from .mediation import ols_mediation

    out.mkdir(parents=True, exist_ok=True)
    name = result.spec.name
    console.print(result.verdict.headline)
    ols = ols_mediation(survey, result.spec)
    cmp = result.compare(ols)
    cmp.to_csv(out / f"{name}_compare.csv", index=False)
    ind = cmp[cmp["path"] == "indirect"]
    show = ind[["outcome", result.spec.group, "area", "mean", "lo", "hi", "p_positive", "ols",
                "ols_lo", "ols_hi"]].round(3)
    _print_frame(show, f"{name}: indirect effect a*b, posterior mean [90%] beside OLS "
                 "[bootstrap 90%]", index=False)
    for kind, fig in (("paths", plot.mediation_paths(result)),
                      ("forest", plot.mediation_forest(result, ols))):
        fig.savefig(out / f"{name}_{kind}.{figure_format}")
        plt.close(fig)
    console.print(f"wrote {out}/{name}_compare.csv, {name}_paths.{figure_format}, "
                  f"{name}_forest.{figure_format}")


def _experiment_report(result, survey, out: Path, figure_format: str) -> None:
    """An experiment fit's verdict, its contrasts beside OLS (HC3), the arms and figures."""
    import matplotlib.pyplot as plt

    from . import plot
    from .experiment import experiment_layout, ols_experiment

    out.mkdir(parents=True, exist_ok=True)
    name = result.spec.name
    console.print(result.verdict.headline)
    ols = ols_experiment(survey, result.spec)
    cmp = result.compare(ols)
    cmp.to_csv(out / f"{name}_compare.csv", index=False)
    result.arms().to_csv(out / f"{name}_arms.csv", index=False)
    ols["anova"].to_csv(out / f"{name}_anova.csv", index=False)
    _print_frame(experiment_layout(cmp, ("A (main)", "B (main)", "A x B")),
                 f"{name}: contrasts in index points, posterior mean [90% HDI] beside OLS "
                 f"(HC3 SE); sesoi = {result.spec.smallest_effect:g}", index=False)
    written = []
    for o in result.spec.outcomes:
        fig = plot.nudge_effects(result, ols, outcome=o)
        fig.savefig(out / f"{name}_{o}.{figure_format}", dpi=90)
        plt.close(fig)
        written.append(f"{name}_{o}.{figure_format}")
    console.print(f"wrote {out}/{name}_compare.csv, {name}_arms.csv, {name}_anova.csv, "
                  + ", ".join(written))


@app.command("fit")
def fit_command(
    spec: Annotated[str, typer.Argument(help="Built-in spec name or path to a TOML spec.")],
    data: DataOpt = None,
    out: Annotated[Path, typer.Option(
        help="Folder for the fit (.nc), comparison and figure.")] = Path("fit"),
    codebook: CodebookOpt = "eu5_2008",
    draws: Annotated[int | None, typer.Option(help="Override the spec's draws.")] = None,
    backend: Annotated[str | None, typer.Option(help="nutpie, nutpie-jax or pymc.")] = None,
    figure_format: Annotated[str, typer.Option(
        "--format", help="Figure format: png or svg.")] = "png",
) -> None:
    """Fit one spec and print its posterior beside OLS (verdict on the first line)."""
    import matplotlib.pyplot as plt

    from . import plot
    from .classical.ols import ols_by_area
    from .classical.tables import tables as _tables
    from .fit import fit as _fit
    from .summaries.tables import compare_layout

    options = {k: v for k, v in (("draws", draws), ("backend", backend)) if v is not None}
    if figure_format not in ("png", "svg"):
        _fail(CoprodError(f"--format {figure_format!r}: use png or svg"))
    try:
        from .spec import load_spec

        if (data is None and codebook == "eu5_2008"
                and getattr(load_spec(spec), "kind", None) == "experiment"):
            codebook = "uk_panels_2011"  # the embedded data with an experiment
        survey = _load(data, codebook)
        # the verdict is printed below, first; the warning itself would only repeat it
        with console.status(f"fitting {spec} ..."), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = _fit(spec, survey, **options)
        if getattr(result.spec, "kind", None) == "mediation":
            _mediation_report(result, survey, out, figure_format)
            return
        if getattr(result.spec, "kind", None) == "experiment":
            _experiment_report(result, survey, out, figure_format)
            return
        if result.spec.measurement == "latent":
            _latent_report(result, _tables(survey), out)
            return
        by_area = result.spec.level == "area"
        classical = (ols_by_area(survey, result.spec.outcome, list(result.spec.predictors))
                     if by_area else _tables(survey))
    except CoprodError as e:
        _fail(e)
    name = result.spec.name
    cmp = _save_and_compare(result, classical, out)
    wide = compare_layout(cmp)
    wide.columns = [f"{g} {s}" for g, s in wide.columns]
    _print_frame(wide, f"{name}: OLS beside posterior mean [90% HDI]; ! = they disagree")
    fig = plot.area_slopes(result, classical) if by_area else plot.slopes_grid(result, classical)
    fig.savefig(out / f"{name}_slopes.{figure_format}", dpi=90)
    plt.close(fig)
    console.print(f"wrote {out}/{name}.nc, {name}_compare.csv, {name}_slopes.{figure_format}")


@app.command()
def design(
    effect: Annotated[float, typer.Option(help="Expected effect of nudge A (without B), in "
                                                "outcome SDs.")] = 0.1,
    per_arm: Annotated[list[int], typer.Option(
        "--per-arm", help="Respondents per arm and area; repeat for several. One value n "
                          "gives the curve at n/4, n/2, n and 2n.")] = [200],  # noqa: B006
    areas: Annotated[int, typer.Option(help="Local areas, each with the 2x2 design.")] = 4,
    effect_b: Annotated[float, typer.Option(help="Effect of nudge B (without A).")] = 0.0,
    interaction: Annotated[float, typer.Option(help="A x B interaction.")] = 0.0,
    area_sd: Annotated[float, typer.Option(help="Between-area SD of the effects.")] = 0.05,
    contrast: Annotated[str, typer.Option(help="Contrast that must be credible.")] = "A (main)",
    sims: Annotated[int, typer.Option(help="Simulated surveys per sample size.")] = 200,
    out: Annotated[Path, typer.Option(help="Folder for the table and the plot.")] = Path("design"),
    cache: Annotated[Path | None, typer.Option(
        help="Folder of finished simulations (default OUT/cache); a rerun resumes.")] = None,
    address: Annotated[str | None, typer.Option(
        help="A Dask scheduler address; default a local cluster.")] = None,
    workers: Annotated[int | None, typer.Option(help="Local cluster workers.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the simulations.")] = 0,
) -> None:
    """Assurance of a planned nudge experiment: the probability over simulated surveys that
    the posterior shows the effect credibly (P > 0.95), against the sample size."""
    import matplotlib.pyplot as plt

    from .design import WavePlan, assurance, plot_assurance

    try:
        sizes = sorted(set(per_arm))
        if len(sizes) == 1:
            n = sizes[0]
            sizes = sorted({max(2, n // 4), max(2, n // 2), n, 2 * n})
        plan = WavePlan(areas=areas, per_arm=sizes[-1], effect=effect, effect_b=effect_b,
                        interaction=interaction, area_sd=area_sd, contrast=contrast)
        out.mkdir(parents=True, exist_ok=True)
        result = assurance(plan, per_arm=sizes, sims=sims, cache_dir=cache or out / "cache",
                           address=address, workers=workers, seed=seed)
    except CoprodError as e:
        _fail(e)
    result.to_csv(out / "assurance.csv", index=False)
    _print_frame(result.set_index("per_arm").round(3),
                 f"Assurance: P(posterior P({contrast} > 0) > 0.95), effect {effect} SD, "
                 f"{areas} areas, {sims} simulated surveys each")
    fig = plot_assurance(result)
    fig.savefig(out / "assurance.png", dpi=90)
    plt.close(fig)
    console.print(f"wrote {out}/assurance.csv, {out}/assurance.png (simulations kept in "
                  f"{cache or out / 'cache'})")


def main() -> None:  # pragma: no cover - console entry point
    app()
