"""Benchmark: the full 360 calibration model, ours against mixedlm, lme4 and statsmodels.

Not a test: it prints a side-by-side table of fit time and peak memory. The model is

    score ~ source + skill + (1|ratee) + (1|ratee:skill) + (1|rater) + (1|rater:ratee)

fitted by REML on organisations from ``workbench.synth.generator`` (8 skills, self + manager + 4 peers,
about 50 ratings per ratee, one wave), plus lme4's InstEval ``y ~ service + (1|s) + (1|d) +
(1|dept)`` from the committed fixture. Each fit runs in its own subprocess; the time is the fit
alone (data loading excluded), measured inside that process (in R for lme4); the memory is the
process's peak resident set (``wait4`` rusage), and "fit MB" is that peak minus the peak
before the fit started (interpreter + data). Engines:

- ours: ``workbench.calibration.mixed.model.fit_mixed`` (the engine behind ``calibrate_ratings``), default
  ``solver="auto"`` (iterative above 1,500 crossed levels); ``ours_dense`` (only with ``--only``)
  forces the exact dense solver;
- mixedlm: ``mixedlm.lmer`` with the lme4 formula (Python package with a Rust core);
- lme4: ``lmer`` via ``Rscript`` with its default control (skipped when Rscript is absent);
- statsmodels: ``MixedLM`` with one all-enclosing group and a variance component per term
  (its only way to express crossed effects). It builds dense per-group designs, so it is run
  only at the ``--small`` size (30 ratees): at 60 ratees (3,000 ratings) it takes minutes.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_calibrate.py
    .venv/bin/python benchmarks/bench_calibrate.py --sizes 1000 10000 --skip-r --repeat 3
    .venv/bin/python benchmarks/bench_calibrate.py --only ours,mixedlm --no-insteval
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "lme4"
ENGINES = ("ours", "mixedlm", "lme4", "statsmodels")
OPTIONAL_ENGINES = ("ours_dense",)  # only with --only: ours with the exact solver forced
ORG_TERMS = ["ratee", "ratee:skill", "rater", "rater:ratee"]
ORG_FORMULA = ("score ~ source + skill + (1|ratee) + (1|ratee:skill) + (1|rater) + "
               "(1|rater:ratee)")
INSTEVAL_FORMULA = "y ~ service + (1|s) + (1|d) + (1|dept)"
STATSMODELS_MAX_ROWS = 3000

R_WORKER = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]; kind <- args[2]
hwm <- function() {
  line <- grep("^VmHWM", readLines("/proc/self/status"), value = TRUE)
  as.numeric(strsplit(trimws(sub("VmHWM:", "", line)), " +")[[1]][1]) / 1024
}
if (kind == "org") {
  d <- read.csv(path, colClasses = c(ratee = "character", rater = "character",
                                     source = "character", skill = "character"))
  for (v in c("ratee", "rater", "source", "skill"))
    d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]])))
  f <- score ~ source + skill + (1 | ratee) + (1 | ratee:skill) + (1 | rater) + (1 | rater:ratee)
} else {
  d <- read.csv(path, colClasses = c(s = "character", d = "character", dept = "character",
                                     service = "character"))
  for (v in c("s", "d", "dept", "service"))
    d[[v]] <- factor(d[[v]], levels = sort(unique(d[[v]])))
  f <- y ~ service + (1 | s) + (1 | d) + (1 | dept)
}
before <- hwm()
t0 <- proc.time()
fit <- lmer(f, data = d, REML = TRUE)
el <- proc.time() - t0
cat(sprintf('{"seconds": %.6f, "cpu_seconds": %.6f, "before_mb": %.3f, "crit": %.10f, "n": %d}\n',
            el[["elapsed"]], el[["user.self"]] + el[["sys.self"]], before, REMLcrit(fit),
            nobs(fit)))
"""


# ------------------------------------------------------------------------------------------
# Worker side: one fit in this process, result as one JSON line on stdout
# ------------------------------------------------------------------------------------------


def _hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM"):
                return float(line.split()[1]) / 1024
    return float("nan")


def _load(path: str, kind: str):
    import pandas as pd

    if kind == "org":
        return pd.read_csv(path, dtype={"ratee": str, "rater": str, "source": str,
                                        "skill": str})
    return pd.read_csv(path, dtype={"s": str, "d": str, "dept": str, "service": str})


def _fit_ours(data, kind, solver="auto"):
    from workbench.calibration.mixed.model import fit_mixed

    if kind == "org":
        res = fit_mixed(data, response="score", fixed=["source", "skill"], random=ORG_TERMS,
                        method="REML", solver=solver)
    else:
        res = fit_mixed(data, response="y", fixed=["service"], random=["s", "d", "dept"],
                        method="REML", solver=solver)
    return res.reml_criterion


def _fit_ours_dense(data, kind):
    return _fit_ours(data, kind, solver="dense")


def _fit_mixedlm(data, kind):
    import mixedlm

    res = mixedlm.lmer(ORG_FORMULA if kind == "org" else INSTEVAL_FORMULA, data, REML=True)
    return float(res.REMLcrit())


def _fit_statsmodels(data, kind):
    import statsmodels.formula.api as smf

    data = data.copy()
    if kind == "org":
        data["ratee_skill"] = data["ratee"] + ":" + data["skill"]
        data["rater_ratee"] = data["rater"] + ":" + data["ratee"]
        terms, formula = ["ratee", "ratee_skill", "rater", "rater_ratee"], "score ~ source + skill"
    else:
        terms, formula = ["s", "d", "dept"], "y ~ service"
    data["_all"] = 1
    model = smf.mixedlm(formula, data, groups="_all", re_formula="0",
                        vc_formula={t: f"0 + C({t})" for t in terms})
    res = model.fit(reml=True)
    # -2 llf of statsmodels' REML fit is on lme4's REMLcrit scale (equal at 30 ratees).
    return float(-2 * res.llf)


def _worker(engine: str, path: str, kind: str) -> int:
    data = _load(path, kind)
    fit = {"ours": _fit_ours, "ours_dense": _fit_ours_dense, "mixedlm": _fit_mixedlm,
           "statsmodels": _fit_statsmodels}[engine]
    before = _hwm_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    crit = fit(data, kind)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "before_mb": before, "crit": crit,
                      "n": len(data)}))
    return 0


# ------------------------------------------------------------------------------------------
# Driver side
# ------------------------------------------------------------------------------------------


def _child_env(args) -> dict:
    env = dict(os.environ)
    if args.unset_openblas_coretype:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_child(cmd: list[str], env: dict, timeout: float, mem_limit_gb: float) -> dict:
    """Run one fit; return its JSON line plus peak RSS from wait4, or an error."""

    def limit():
        if mem_limit_gb > 0:
            cap = int(mem_limit_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=env,
                                preexec_fn=limit)
        deadline = time.monotonic() + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                timed_out = True
            time.sleep(0.2)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out = proc.stdout.read().decode()
        proc.stdout.close()
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    peak_mb = usage.ru_maxrss / 1024
    if timed_out:
        return {"error": f"timed out after {timeout:.0f} s", "peak_mb": peak_mb}
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {proc.returncode}: {last[:150]}", "peak_mb": peak_mb}
    result = json.loads(lines[-1])
    result["peak_mb"] = peak_mb
    return result


def _command(engine: str, path: Path, kind: str, r_script: Path) -> list[str]:
    if engine == "lme4":
        return ["Rscript", str(r_script), str(path), kind]
    return [sys.executable, str(Path(__file__).resolve()), "--worker", engine, str(path), kind]


def _skip_reason(engine: str, n_rows: int, args) -> str | None:
    if engine == "lme4" and (args.skip_r or shutil.which("Rscript") is None):
        return "skipped (--skip-r)" if args.skip_r else "skipped: Rscript not found"
    if engine == "statsmodels" and n_rows > STATSMODELS_MAX_ROWS:
        return f"skipped: dense designs, hopeless above ~{STATSMODELS_MAX_ROWS} ratings"
    if engine == "mixedlm":
        try:
            import mixedlm  # noqa: F401
        except ImportError:
            return "skipped: mixedlm not installed (pip install -e '.[bench]')"
    return None


def _datasets(args, tmp: Path):
    """Yield (label, kind, csv path, n_rows), generating organisations on the way."""
    from workbench.synth.generator import generate_organisation

    sizes = ([args.small] if args.small else []) + list(args.sizes)
    for n in sizes:
        started = time.perf_counter()
        org = generate_organisation(n, seed=args.seed, n_skills=8, n_peers=4, n_waves=1)
        ratings = org.ratings[["ratee", "rater", "source", "skill", "score"]]
        path = tmp / f"org{n}.csv"
        ratings.to_csv(path, index=False)
        print(f"# generated {n} ratees: {len(ratings)} ratings "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
        yield f"{n} ratees", "org", path, len(ratings)
        path.unlink()
    if not args.no_insteval:
        import pandas as pd

        path = tmp / "insteval.csv"
        inst = pd.read_csv(FIXTURES / "insteval.csv.gz", dtype=str)
        inst.to_csv(path, index=False)
        yield "InstEval", "insteval", path, len(inst)


def _blas_info() -> str:
    parts = []
    try:
        import numpy  # noqa: F401
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            parts.append(f"{info.get('internal_api')} {info.get('version')} "
                         f"({info.get('architecture')}, {info.get('num_threads')} threads)")
    except ImportError:
        parts.append("threadpoolctl not installed")
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
                                          "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    return "; ".join(parts) + f"; env {env}"


def _fmt_row(cells, widths):
    last = len(cells) - 1
    return "  ".join(str(c).ljust(w) if i in (0, last) else str(c).rjust(w)
                     for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _print_table(rows: list[dict], engines: list[str]) -> None:
    header = ["data", "n", "engine", "seconds", "cpu s", "peak MB", "fit MB", "REML crit",
              "time/ours", "cpu/ours", "mem/ours", "note"]
    table = []
    for row in rows:
        ours = row["results"].get("ours", {})
        for engine in engines:
            res = row["results"].get(engine, {})
            if "seconds" not in res:
                table.append([row["label"], row["n"], engine, "-", "-", "-", "-", "-", "", "",
                              "", res.get("error", "")])
                continue
            ratio_t = ratio_c = ratio_m = ""
            if "seconds" in ours and engine != "ours":
                ratio_t = f"{ours['seconds'] / res['seconds']:.2f}"
                ratio_c = f"{ours['cpu_seconds'] / res['cpu_seconds']:.2f}"
                ratio_m = f"{ours['peak_mb'] / res['peak_mb']:.2f}"
            table.append([row["label"], row["n"], engine, f"{res['seconds']:.2f}",
                          f"{res['cpu_seconds']:.2f}", f"{res['peak_mb']:.0f}",
                          f"{res['peak_mb'] - res['before_mb']:.0f}", f"{res['crit']:.4f}",
                          ratio_t, ratio_c, ratio_m, ""])
    widths = [max(len(str(r[i])) for r in [header, *table]) for i in range(len(header))]
    print(_fmt_row(header, widths))
    print(_fmt_row(["-" * w for w in widths], widths))
    for line in table:
        print(_fmt_row(line, widths))


def _parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 50000],
                        help="numbers of ratees (default: 1000 10000 50000; none: InstEval only)")
    parser.add_argument("--small", type=int, default=30,
                        help="an extra small organisation where statsmodels can run too "
                             "(default 30 ratees; 0 to leave out)")
    parser.add_argument("--skip-r", action="store_true", help="do not run lme4")
    parser.add_argument("--only", default=",".join(ENGINES),
                        help="comma-separated engines (default: ours,mixedlm,lme4,statsmodels; "
                             "also ours_dense: ours with the exact solver forced)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="fits per engine and data set; the fastest time is reported")
    parser.add_argument("--no-insteval", action="store_true", help="leave out InstEval")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds allowed for one fit (default 3600)")
    parser.add_argument("--mem-limit-gb", type=float, default=16,
                        help="address-space cap per fit process (0: none; default 16)")
    parser.add_argument("--unset-openblas-coretype", action="store_true",
                        help="drop OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE for the fits")
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "CSV", "KIND"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.only.split(",") if e.strip()]
    unknown = sorted(set(engines) - set(ENGINES) - set(OPTIONAL_ENGINES))
    if unknown:
        parser.error(f"--only: unknown engine(s) {unknown}; choose from "
                     f"{list(ENGINES + OPTIONAL_ENGINES)}")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.engines = engines
    return args


def main(argv=None) -> int:
    args = _parse(argv)
    if args.worker:
        return _worker(*args.worker)
    env = _child_env(args)
    print(f"# bench_calibrate  {_dt.datetime.now(_dt.UTC):%Y-%m-%d %H:%M UTC}  "
          f"{platform.node()}  {os.cpu_count()} cores  Python {platform.python_version()}")
    print(f"# BLAS: {_blas_info()}")
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip()
    print(f"# workbench at {commit or 'unknown commit'}")
    if shutil.which("Rscript") and not args.skip_r:
        version = subprocess.run(["Rscript", "-e", "cat(R.version.string, 'lme4',"
                                  "as.character(packageVersion('lme4')))"],
                                 capture_output=True, text=True).stdout.strip()
        print(f"# R: {version}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_calibrate_") as tmp:
        r_script = Path(tmp) / "lme4_worker.R"
        r_script.write_text(R_WORKER)
        for label, kind, path, n_rows in _datasets(args, Path(tmp)):
            row = {"label": label, "n": n_rows, "results": {}}
            for engine in args.engines:
                reason = _skip_reason(engine, n_rows, args)
                if reason:
                    row["results"][engine] = {"error": reason}
                    continue
                best = None
                for _ in range(args.repeat):
                    res = _run_child(_command(engine, path, kind, r_script), env,
                                     args.timeout, args.mem_limit_gb)
                    if "seconds" not in res:
                        best = res
                        break
                    if best is None or res["seconds"] < best["seconds"]:
                        peak = max(res["peak_mb"], (best or {}).get("peak_mb", 0))
                        best = {**res, "peak_mb": peak}
                row["results"][engine] = best
                shown = (f"{best['seconds']:.2f} s (cpu {best['cpu_seconds']:.2f} s), "
                         f"{best['peak_mb']:.0f} MB"
                         if "seconds" in best else best["error"])
                print(f"#   {label:>14s}  {engine:11s} {shown}", flush=True)
            rows.append(row)
    print()
    _print_table(rows, args.engines)
    print("\nseconds: wall time of the fit only, fastest of --repeat; cpu s: its CPU time (all "
          "threads; steadier than wall time on a shared machine); peak MB: the fit process's "
          "peak RSS; fit MB: peak minus the peak before fitting; ratios: ours / peer (below 1: "
          "ours is faster or smaller). REML crit: each engine's own criterion at its estimate "
          "(nan where an engine computes none).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
