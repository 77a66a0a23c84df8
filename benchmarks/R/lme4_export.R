# The lme4 fitting and export shared by make_lme4_fixtures.R and make_lme4_item_fixture.R
# (sourced by them after they set script_name, the script recorded in each meta.json).
#
# For each model: a REML fit with bobyqa at tight tolerances, refits from that optimum with
# two other optimizers, the lowest REML criterion kept, and exported (export_fit):
#   <name>/fixed.csv        r_name, name (patsy-style), estimate, se
#   <name>/varcomp.csv      term, variance  (one row per random term, then "residual")
#   <name>/blups_<term>.csv.gz  level, estimate, se  (se = sqrt of condVar's postVar)
#   <name>/meta.json        formula, REMLcrit, theta, sigma, optimizer checks, versions, date
# Factors get sorted levels so that R's treatment coding matches patsy's (first sorted level
# is the reference). Numbers are written with 17 significant digits.
suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/fixtures/lme4"

num17 <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}

write_csv <- function(df, path) {
  df <- num17(df)
  if (grepl("\\.gz$", path)) {
    con <- gzfile(path, "w")
    on.exit(close(con))
    write.csv(df, con, row.names = FALSE, quote = TRUE)
  } else {
    write.csv(df, path, row.names = FALSE, quote = TRUE)
  }
}

sorted_factor <- function(x) factor(as.character(x), levels = sort(unique(as.character(x))))

# patsy-style names for the columns of the fixed-effects model matrix.
patsy_names <- function(fit) {
  X <- getME(fit, "X")
  assign <- attr(X, "assign")
  labels <- attr(terms(fit), "term.labels")
  mf <- model.frame(fit)
  out <- character(ncol(X))
  for (j in seq_len(ncol(X))) {
    if (assign[j] == 0) {
      out[j] <- "Intercept"
      next
    }
    var <- labels[assign[j]]
    if (is.factor(mf[[var]])) {
      lev <- substring(colnames(X)[j], nchar(var) + 1)
      out[j] <- sprintf("%s[T.%s]", var, lev)
    } else {
      out[j] <- var
    }
  }
  out
}

ctrl_bobyqa <- lmerControl(optimizer = "bobyqa",
                           optCtrl = list(rhobeg = 0.2, rhoend = 1e-10, maxfun = 1e6),
                           calc.derivs = TRUE)

fit_best <- function(formula, data) {
  t0 <- proc.time()[["elapsed"]]
  fit <- lmer(formula, data = data, REML = TRUE, control = ctrl_bobyqa)
  secs <- proc.time()[["elapsed"]] - t0
  checks <- list(bobyqa = REMLcrit(fit))
  best <- fit
  # Restart from the bobyqa optimum with other optimizers: a lower criterion wins.
  others <- list(
    Nelder_Mead = lmerControl(optimizer = "Nelder_Mead",
                              optCtrl = list(FtolAbs = 1e-14, FtolRel = 1e-15,
                                             XtolRel = 1e-12, maxfun = 1e6)),
    nloptwrap = lmerControl(optimizer = "nloptwrap",
                            optCtrl = list(algorithm = "NLOPT_LN_BOBYQA", xtol_abs = 1e-12,
                                           ftol_abs = 1e-14, ftol_rel = 1e-15, maxeval = 1e6))
  )
  for (nm in names(others)) {
    alt <- tryCatch(
      lmer(formula, data = data, REML = TRUE, control = others[[nm]],
           start = list(theta = getME(fit, "theta"))),
      error = function(e) NULL)
    if (is.null(alt)) next
    checks[[nm]] <- REMLcrit(alt)
    if (REMLcrit(alt) < REMLcrit(best)) best <- alt
  }
  list(fit = best, checks = checks, seconds = secs)
}

export_fit <- function(name, formula, data, terms) {
  dir <- file.path(out_dir, name)
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  res <- fit_best(formula, data)
  fit <- res$fit

  coefs <- summary(fit)$coefficients
  write_csv(data.frame(r_name = rownames(coefs), name = patsy_names(fit),
                       estimate = unname(coefs[, "Estimate"]),
                       se = unname(coefs[, "Std. Error"])),
            file.path(dir, "fixed.csv"))

  vc <- as.data.frame(VarCorr(fit))
  vc_terms <- ifelse(vc$grp == "Residual", "residual", vc$grp)
  variances <- setNames(vc$vcov, vc_terms)
  write_csv(data.frame(term = c(terms, "residual"),
                       variance = unname(variances[c(terms, "residual")])),
            file.path(dir, "varcomp.csv"))

  re <- ranef(fit, condVar = TRUE)
  blup_files <- list()
  for (term in terms) {
    r <- re[[term]]
    pv <- attr(r, "postVar")
    file <- sprintf("blups_%s.csv.gz", gsub(":", "_", term))
    write_csv(data.frame(level = rownames(r), estimate = r[["(Intercept)"]],
                         se = sqrt(pv[1, 1, ])),
              file.path(dir, file))
    blup_files[[term]] <- file
  }

  theta <- getME(fit, "theta")
  meta <- list(
    formula = paste(deparse(formula, width.cutoff = 500L), collapse = " "),
    method = "REML",
    REMLcrit = REMLcrit(fit),
    sigma = sigma(fit),
    theta = as.list(setNames(theta, names(theta))),
    terms = terms,
    blup_files = blup_files,
    n_obs = nobs(fit),
    n_levels = as.list(sapply(terms, function(t) nlevels(getME(fit, "flist")[[t]]))),
    optimizer = fit@optinfo$optimizer,
    optimizer_checks = res$checks,
    fit_seconds_bobyqa = res$seconds,
    lme4_version = as.character(packageVersion("lme4")),
    r_version = R.version.string,
    date = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"),
    script = script_name
  )
  write(toJSON(meta, auto_unbox = TRUE, digits = NA, pretty = TRUE),
        file.path(dir, "meta.json"))
  cat(sprintf("%s: REMLcrit %.10f (%s); checks: %s\n", name, REMLcrit(fit),
              fit@optinfo$optimizer,
              paste(names(res$checks), sprintf("%.10f", unlist(res$checks)), collapse = ", ")))
}
