# lme4 reference fixture of the item-level calibration (tests/calibration/test_lme4_reference.py).
#
# Usage: Rscript benchmarks/R/make_lme4_item_fixture.R tests/fixtures/lme4
# (benchmarks/make_lme4_item_fixture.py writes org_items_ratings.csv.gz first, then calls this.)
#
# The items enter as fixed effects coded sum-to-zero within their competency, built here from
# the data (for a skill with sorted items i_1..i_k: k-1 columns, 1 on i_j, -1 on i_k), named
# in the export "item[<item>]" as the workbench names them; the random part gains the rater's
# view of the ratee's competency, shared by its items: (1 | rater:ratee:skill).
# Besides the files below, scores.csv.gz holds the calibrated competency scores computed from
# lme4's estimates: intercept + skill + mean of the non-self source offsets + ratee BLUP +
# ratee:skill BLUP.
#
# For each model we fit by REML with bobyqa at tight tolerances, refit from that optimum with
# two other optimizers, keep the lowest REML criterion, and export:
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
    script = "benchmarks/R/make_lme4_item_fixture.R"
  )
  write(toJSON(meta, auto_unbox = TRUE, digits = NA, pretty = TRUE),
        file.path(dir, "meta.json"))
  cat(sprintf("%s: REMLcrit %.10f (%s); checks: %s\n", name, REMLcrit(fit),
              fit@optinfo$optimizer,
              paste(names(res$checks), sprintf("%.10f", unlist(res$checks)), collapse = ", ")))
}


org <- read.csv(gzfile(file.path(out_dir, "org_items_ratings.csv.gz")),
                colClasses = c(ratee = "character", rater = "character",
                               source = "character", skill = "character", item = "character"))
for (col in c("ratee", "rater", "source", "skill")) org[[col]] <- sorted_factor(org[[col]])

contrast_names <- character(0)
item_labels <- character(0)
for (s in levels(org$skill)) {
  items <- sort(unique(org$item[org$skill == s]))
  if (length(items) < 2) next
  last <- items[length(items)]
  for (it in items[-length(items)]) {
    nm <- sprintf("ic%d", length(contrast_names) + 1)
    org[[nm]] <- (org$item == it) - (org$item == last)
    contrast_names <- c(contrast_names, nm)
    item_labels <- c(item_labels, sprintf("item[%s]", it))
  }
}
terms <- c("ratee", "ratee:skill", "rater", "rater:ratee", "rater:ratee:skill")
formula <- as.formula(paste(
  "score ~ source + skill +", paste(contrast_names, collapse = " + "),
  "+ (1 | ratee) + (1 | ratee:skill) + (1 | rater) + (1 | rater:ratee) +",
  "(1 | rater:ratee:skill)"))
name <- "org_items"
export_fit(name, formula, org, terms)

# the item columns under the workbench's names, and the competency scores from lme4's fit
dir <- file.path(out_dir, name)
fixed <- read.csv(file.path(dir, "fixed.csv"), colClasses = "character")
fixed$name <- ifelse(fixed$name %in% contrast_names,
                     item_labels[match(fixed$name, contrast_names)], fixed$name)
write.csv(fixed, file.path(dir, "fixed.csv"), row.names = FALSE, quote = TRUE)

fit <- fit_best(formula, org)$fit
beta <- fixef(fit)
re <- ranef(fit)
nonself <- setdiff(levels(org$source), "self")
offset <- mean(sapply(nonself, function(src) {
  nm <- paste0("source", src)
  if (nm %in% names(beta)) beta[[nm]] else 0
}))
cells <- unique(org[, c("ratee", "skill")])
skill_fe <- sapply(as.character(cells$skill), function(s) {
  nm <- paste0("skill", s)
  if (nm %in% names(beta)) beta[[nm]] else 0
})
b_ratee <- re[["ratee"]][as.character(cells$ratee), "(Intercept)"]
b_rs <- re[["ratee:skill"]][paste(cells$ratee, cells$skill, sep = ":"), "(Intercept)"]
scores <- data.frame(person = as.character(cells$ratee), skill = as.character(cells$skill),
                     score = unname(beta[["(Intercept)"]] + skill_fe + offset + b_ratee + b_rs))
write_csv(scores[order(scores$person, scores$skill), ], file.path(dir, "scores.csv.gz"))
writeLines(capture.output(sessionInfo()), file.path(dir, "sessionInfo.txt"))
