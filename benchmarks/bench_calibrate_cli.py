"""Benchmark: the whole calibration as a user runs it, ours against mixedlm and lme4 (issue #12).

Each engine runs as its own process doing the whole job: read the ratings CSV, fit the model by
REML, compute the random effects with their conditional variances, write a CSV. Wall time and
peak resident memory of that process (``wait4`` rusage) are reported, with ratios to ours.

- ours: ``workbench calibrate RATINGS --out DIR`` (identifiability, fit, every SE including the
  calibrated scores', reliability and agreement tables, all files);
- mixedlm: ``mixedlm.lmer`` + ``ranef(condVar=True)`` in a Python process, BLUPs written;
- lme4: ``lmer`` + ``ranef(condVar=TRUE)`` via ``Rscript``, BLUPs written (skipped without R).

Organisations come from ``workbench.synth`` (one wave, 8 skills, about 50 ratings per person)
with the full model ``score ~ source + skill + (1|ratee) + (1|ratee:skill) + (1|rater) +
(1|rater:ratee)``; InstEval is lme4's data cast as ratings (``score ~ 1 + (1|ratee) +
(1|rater)``, what ``workbench calibrate`` fits with no ``--terms``).

    .venv/bin/python benchmarks/bench_calibrate_cli.py --peers 1000 5000 --ours 10000 50000
    .venv/bin/python benchmarks/bench_calibrate_cli.py --peers --no-insteval --ours --files r50k.csv
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "lme4"
ORG_FORMULA = ("score ~ source + skill + (1|ratee) + (1|ratee:skill) + (1|rater) + "
               "(1|rater:ratee)")
INSTEVAL_FORMULA = "score ~ 1 + (1|ratee) + (1|rater)"

MIXEDLM = r"""
import sys, pandas as pd, numpy as np, mixedlm
path, formula, out = sys.argv[1:4]
data = pd.read_csv(path, dtype={"ratee": str, "rater": str, "source": str, "skill": str})
fit = mixedlm.lmer(formula, data, REML=True)
re = mixedlm.ranef(fit, condVar=True)
rows = []
for group, terms in re.items():
    for term, values in terms.items():
        rows.append(pd.DataFrame({"group": group, "estimate": np.asarray(values).ravel()}))
pd.concat(rows).to_csv(out, index=False)
"""

LME4 = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], colClasses = c(ratee = "character", rater = "character",
                                      source = "character", skill = "character"))
fit <- lmer(as.formula(args[2]), data = d, REML = TRUE)
re <- ranef(fit, condVar = TRUE)
out <- do.call(rbind, lapply(names(re), function(g) {
  v <- attr(re[[g]], "postVar")
  data.frame(group = g, level = rownames(re[[g]]), estimate = re[[g]][, 1],
             se = sqrt(v[1, 1, ]))
}))
write.csv(out, args[3], row.names = FALSE)
"""


def _run(cmd: list[str], timeout: float) -> dict:
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    timer = threading.Timer(timeout, proc.kill)  # a run over the time limit is killed
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except KeyboardInterrupt:
        proc.kill()
        raise
    finally:
        timer.cancel()
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if seconds > timeout:
        code = code or -1
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_gb": usage.ru_maxrss / 2**20, "ok": code == 0,
            "error": "" if code == 0 else err.strip().splitlines()[-1:]}


def _org_csv(n: int, folder: Path) -> Path:
    # Generated in a child process: on Linux a child's peak RSS (wait4) starts from the
    # parent's at fork, so the parent must stay small for the memory column to mean anything.
    path = folder / f"org{n}.csv"
    code = ("import sys; from workbench.synth.generator import generate_organisation; "
            "org = generate_organisation(int(sys.argv[1]), seed=2026, n_waves=1); "
            "org.ratings[['ratee', 'rater', 'source', 'skill', 'score']].to_csv(sys.argv[2], "
            "index=False)")
    subprocess.run([sys.executable, "-c", code, str(n), str(path)], check=True)
    return path


def _insteval_csv(folder: Path) -> Path:
    import pandas as pd

    data = pd.read_csv(FIXTURES / "insteval.csv.gz", dtype=str)
    path = folder / "insteval_ratings.csv"
    pd.DataFrame({"ratee": "L" + data["d"], "rater": "S" + data["s"], "source": "other",
                  "skill": "Teaching", "score": data["y"].astype(float)}).to_csv(path,
                                                                                 index=False)
    return path


def _engines(path: Path, formula: str, folder: Path, peers: bool) -> dict:
    out = {"ours": [str(ROOT / ".venv" / "bin" / "workbench"), "calibrate", str(path), "--out",
                    str(folder / f"ours-{path.stem}")]}
    if peers:
        script = folder / "mixedlm_worker.py"
        script.write_text(MIXEDLM)
        out["mixedlm"] = [sys.executable, str(script), str(path), formula,
                          str(folder / f"mixedlm-{path.stem}.csv")]
        if shutil.which("Rscript"):
            rscript = folder / "lme4_worker.R"
            rscript.write_text(LME4)
            out["lme4"] = ["Rscript", str(rscript), str(path), formula,
                           str(folder / f"lme4-{path.stem}.csv")]
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, nargs="*", default=[1000, 5000],
                        help="organisation sizes run by every engine")
    parser.add_argument("--ours", type=int, nargs="*", default=[10000, 50000],
                        help="sizes run by ours alone")
    parser.add_argument("--no-insteval", action="store_true")
    parser.add_argument("--files", nargs="*", default=[], metavar="CSV",
                        help="ratings files (ratee, rater, source, skill, score) run by ours "
                        "alone, e.g. one wave of a demo organisation")
    parser.add_argument("--only", default="ours,mixedlm,lme4")
    parser.add_argument("--timeout", type=float, default=3600)
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{started}, load average {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        cases = [(f"{n:,} people", _org_csv(n, folder), ORG_FORMULA, True) for n in args.peers]
        if not args.no_insteval:
            cases.append(("InstEval", _insteval_csv(folder), INSTEVAL_FORMULA, True))
        cases += [(f"{n:,} people", _org_csv(n, folder), ORG_FORMULA, False) for n in args.ours]
        cases += [(Path(f).name, Path(f).resolve(), ORG_FORMULA, False) for f in args.files]
        for label, path, formula, peers in cases:
            n_rows = sum(1 for _ in path.open()) - 1
            for engine, cmd in _engines(path, formula, folder, peers).items():
                if engine not in only:
                    continue
                result = _run(cmd, args.timeout)
                rows.append({"data": label, "ratings": n_rows, "engine": engine, **result})
                print(f"{label:>15} {engine:>8}: {result['seconds']:8.1f} s "
                      f"(CPU {result['cpu']:.1f} s) {result['peak_gb']:6.2f} GB {'ok' if result['ok'] else result['error']}",
                      flush=True)
    print()
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores here: above about 1, "
          "other work shares them and wall times are inflated)")
    print("| data | ratings | engine | whole process (s) | CPU user + sys (s) | peak memory (GB) "
          "| time / ours |")
    print("|---|---|---|---|---|---|---|")
    ours = {r["data"]: r["seconds"] for r in rows if r["engine"] == "ours"}
    for r in rows:
        ratio = r["seconds"] / ours[r["data"]] if r["data"] in ours else float("nan")
        status = "" if r["ok"] else " (failed)"
        print(f"| {r['data']} | {r['ratings']:,} | {r['engine']}{status} | {r['seconds']:.1f} | "
              f"{r['cpu']:.1f} | {r['peak_gb']:.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
