"""Benchmark: learning plans for a large organisation, with and without measured gains.

Usage::

    .venv/bin/python benchmarks/bench_plans.py [n_people] [--pages]

Each variant runs in its own Python process (whole-process wall time and peak memory, so
imports and garbage are counted as a user would see them):

* ``default``: expected gains from the conservative default (every activity 0.1);
* ``measured``: expected gains from a per-activity effects table (the generator's true effects
  with SE 0.05, standing in for the impact stage's ``effects_by_activity.csv``), so the
  activity choice has real differences to optimise.

Scores are the synthetic truth plus Normal(0, 0.2) noise with a known SE of 0.2 (what a
calibration would give), so the benchmark does not depend on the calibration's speed; the time
to generate the organisation is reported separately. The target is under 60 s for 50,000 people
on the project's 2-core machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from workbench.plans import build_plans
from workbench.synth import truth_scores
from workbench.synth.generator import generate_organisation
n, variant, pages = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
org = generate_organisation(n, seed=7, n_waves=1)
scores = truth_scores(org, se=0.2, wave=1, random_state=7)
impact = None
if variant == "measured":
    impact = org.truth["training_effects"].rename(columns={"effect": "estimate"}).assign(se=0.05)
t1 = time.perf_counter()
plans = build_plans(scores, org.people, org.framework, org.catalog, ratings=org.ratings,
                    impact=impact, start="2027-01-04", random_state=7,
                    config={"rules": [{"when": {"level": "new", "role": "Team Lead"},
                                       "prefer_kinds": ["coaching"]}]})
t2 = time.perf_counter()
out = {"generate_s": t1 - t0, "build_s": t2 - t1,
       "gain": float(plans.predicted_gain()["estimate"].iloc[0]),
       "people_with_plan": int(plans.focus["person"].nunique()),
       "mentor_exact": bool(plans.mentor_exact)}
if pages:
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        t3 = time.perf_counter()
        plans.save(f"{tmp}/plans")
        out["save_s"] = time.perf_counter() - t3
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def run(n_people, variant, pages):
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(n_people), variant,
                           "1" if pages else "0"], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    n_people = int(argv[0]) if argv and argv[0].isdigit() else 50_000
    pages = "--pages" in argv
    rows = {v: run(n_people, v, pages) for v in ("default", "measured")}
    print(f"learning plans for {n_people} people (each variant a separate process)")
    print(f"{'variant':<10}{'build_plans s':>14}{'process s':>11}{'peak MB':>9}"
          f"{'mean gain':>11}{'planned':>9}" + (f"{'save s':>8}" if pages else ""))
    for name, r in rows.items():
        print(f"{name:<10}{r['build_s']:>14.1f}{r['process_s']:>11.1f}{r['peak_mb']:>9.0f}"
              f"{r['gain']:>11.3f}{r['people_with_plan']:>9}"
              + (f"{r['save_s']:>8.1f}" if pages else ""))
    ratio = rows["measured"]["build_s"] / rows["default"]["build_s"]
    print(f"measured / default build time: {ratio:.2f} (target: build_plans < 60 s at 50,000)")


if __name__ == "__main__":
    main()
