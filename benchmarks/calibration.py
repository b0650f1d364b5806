"""Every published figure of the 2008 wave beside the calibrated simulator's value.

    python benchmarks/calibration.py [--large 20000] [--seed 1] [--markdown FILE]

Prints each target at the published sample sizes (4,951 respondents, seed --seed) and at a
large n per country (a fresh seed, not the calibration's), with the tolerance and whether it
is met, and ends with the count of targets met. Exit code 1 if a large-n target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

import coprod_bayes as cb
from coprod_bayes.survey.report import calibration_report


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--large", type=int, default=20000, help="respondents per country at large n")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--markdown", default=None, help="also write the table as Markdown here")
    args = ap.parse_args()
    t0 = time.time()
    at_pub = calibration_report(cb.simulate(seed=args.seed))
    large = calibration_report(cb.simulate(n_per_country=args.large, seed=args.seed + 1000),
                               complete_n=False)
    table = at_pub.rename(columns={"simulated": "published_n", "met": "met_published_n"}).merge(
        large[["target", "group", "simulated", "met"]].rename(
            columns={"simulated": f"n={args.large}/country", "met": "met_large_n"}),
        on=["target", "group"], how="left")

    def fmt(v) -> str:
        if isinstance(v, float):
            return "" if v != v else f"{v:.3f}"
        return str(v)

    def mark(v) -> str:
        return "" if v != v else ("ok" if v else "MISS")

    big = f"n={args.large}/country"
    print(f"{'target':44s} {'group':8s} {'published':>10s} {'n=4,951':>10s} {'':4s} "
          f"{big:>18s} {'':4s} {'tol':>5s}")
    for _, r in table.iterrows():
        pub_v = r["published"] if r["kind"] != "ordering" else ""
        sim_p = r["published_n"] if r["kind"] != "ordering" else ""
        sim_l = r[big] if r["kind"] != "ordering" else ""
        print(f"{r['target'][:44]:44s} {str(r['group'])[:8]:8s} {fmt(pub_v):>10s} "
              f"{fmt(sim_p):>10s} {mark(r['met_published_n']):4s} {fmt(sim_l):>18s} "
              f"{mark(r['met_large_n']):4s} {fmt(r['tolerance']):>5s}")
        if r["kind"] == "ordering":
            print(f"{'':53s} published: {r['published']}")
            print(f"{'':53s} n=4,951: {r['published_n']}   large n: {r[big]}")
    large_rows = table[table["met_large_n"].notna()]
    missed = large_rows[~large_rows["met_large_n"].astype(bool)]
    print()
    print(f"large n ({args.large}/country): {len(large_rows) - len(missed)} of {len(large_rows)} targets met")
    pub_missed = table[~table["met_published_n"]]
    print(f"published n (4,951): {len(table) - len(pub_missed)} of {len(table)} targets met "
          "(sampling error expected)")
    for kind, g in table.groupby("kind"):
        print(f"  {kind:9s} large n met {int(g['met_large_n'].fillna(True).sum())}/{len(g)}"
              f"   published n met {int(g['met_published_n'].sum())}/{len(g)}")
    if len(missed):
        print("MISSED at large n:")
        print(missed[["target", "group", "published", f"n={args.large}/country"]].to_string(index=False))
    print(f"({time.time() - t0:.1f} s)")
    if args.markdown:
        with open(args.markdown, "w") as fh:
            fh.write(table.drop(columns="kind").to_markdown(index=False, floatfmt=".3f"))
    return 1 if len(missed) else 0


if __name__ == "__main__":
    sys.exit(main())
