"""Table 3 of the paper, from Python: the papers' OLS by country, the hierarchical Bayesian
version (`table3_collective`), the two side by side in the papers' layout, a figure, and the
same model on the latent scale (`latent_collective`) with the attenuation of the index OLS.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python docs/examples/table3_from_python.py [--quick] [--latent]

``--quick`` (what the test suite runs) takes 200 respondents per country and 400 draws per
chain; ``--latent`` adds the latent model (about 15 minutes on 2 cores on the full survey;
see docs/sem.md for its convergence). Writes ``table3.md`` and ``table3_efficacy.png`` into
the working folder.
"""

from __future__ import annotations

import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import coprod_bayes as cb  # noqa: E402
from coprod_bayes.summaries import compare_layout, to_markdown  # noqa: E402

QUICK = "--quick" in sys.argv
LATENT = "--latent" in sys.argv


def main() -> dict:
    survey = cb.simulate(n_per_country=200, seed=5) if QUICK else cb.simulate()
    classic = cb.classical.tables(survey)          # the papers' tables: tidy OLS frames
    options = dict(draws=400, tune=400) if QUICK else {}
    with warnings.catch_warnings():
        # the verdict heads the table below; a quick fit may fall short of the rule
        warnings.simplefilter("ignore", cb.ConvergenceWarning)
        fit = cb.fit("table3_collective", survey, **options)
    print(fit.verdict.headline)                     # converged, or NOT CONVERGED and why
    table = fit.compare(classic)                    # one row per country x predictor
    print(table[table["flag"] != ""].to_string(index=False))  # where OLS and posterior differ
    wide = compare_layout(table)                    # countries as columns, OLS | Bayes
    with open("table3.md", "w") as f:
        f.write(to_markdown(wide) + "\n")
    print(to_markdown(wide))
    cb.plot.slopes(fit, "efficacy", classic).savefig("table3_efficacy.png", dpi=90)
    out = {"survey": survey, "classic": classic, "fit": fit, "table": table, "wide": wide}
    if LATENT:
        latent = cb.fit("latent_collective", survey, **options)
        print(latent.verdict.headline)
        print(latent.compare(classic, index_fit=fit).to_string(index=False))
        out["latent"] = latent
    return out


if __name__ == "__main__":
    main()
