# Reference numbers from R's mclust for tests/profiles (run by hand, never by the tests).
#
#   Rscript benchmarks/R/mclust_fixture.R                      # every data set
#   Rscript benchmarks/R/mclust_fixture.R banknote diabetes    # only these (same outputs)
#
# Data sets:
#   scores   tests/fixtures/mclust/scores.csv, a 300 x 8 ratee-by-skill matrix: the mean non-self
#            wave-1 rating per ratee and skill of the committed demo organisation (seed 2026).
#   faithful R's datasets::faithful (272 x 2: eruption length and waiting time of the Old
#            Faithful geyser), a small real data set no one here wrote; exported as
#            faithful.csv.
#   banknote, diabetes, thyroid  the real data sets shipped with mclust (numeric columns only,
#            the class column dropped): banknote 200 x 6 (Swiss bank notes), diabetes 145 x 3
#            (Reaven and Miller), thyroid 215 x 5 (Coomans et al.); exported as <name>.csv.
# Outputs (tests/fixtures/mclust/):
#   mclust_bic.csv, mclust_best.csv   (scores) model, k, bic (mclust sign), npar, loglik
#   <data>_cells.csv        every structure (all 14) and k = 1..8 of mclust's default run
#                           (Mclust with its default hierarchical start): model, k, loglik, bic,
#                           npar, and loglik_refit: EM (me) started from that classification
#                           and run to a relative tolerance of 1e-11 (NA: singular / empty),
#                           loglik_parameters: the log-likelihood of the returned parameters
#   <data>_classification.csv  one column "<model>_<k>" per cell: mclust's classification
#   <data>_parameters.csv.gz  model, k, component, what (pro, mean, cov), i, j, value: mclust's
#                           mixing proportions, means and covariance matrices
#   <data>_hclass.csv       mclust's hierarchical agglomeration (hc, VVV, use = "SVD") cut at
#                           k = 1..8 (columns "1".."8")
#   session.txt             sessionInfo()
# loglik of the default run is mclust's own; (bic + npar log n) / 2 reproduces it.
suppressPackageStartupMessages(library(mclust))
here <- "tests/fixtures/mclust"
models <- mclust.options("emModelNames")  # the 14 structures
stopifnot(length(models) == 14)
G <- 1:8

wanted <- commandArgs(trailingOnly = TRUE)
if (length(wanted) == 0) wanted <- c("scores", "faithful", "banknote", "diabetes", "thyroid")
scores <- as.matrix(read.csv(file.path(here, "scores.csv"), row.names = 1,
                             check.names = FALSE))
real <- function(name) {
  x <- switch(name,
              faithful = datasets::faithful,
              banknote = mclust::banknote[, -1],
              diabetes = mclust::diabetes[, -1],
              thyroid = mclust::thyroid[, -1])
  x <- as.matrix(x)
  write.csv(x, file.path(here, paste0(name, ".csv")), row.names = FALSE)
  x
}

# The original 11-structure table of the scores (kept for the first fixture test).
if ("scores" %in% wanted) {
old <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "EVV", "VVV")
fit_bic <- mclustBIC(scores, G = G, modelNames = old)
rows <- list()
for (m in old) for (g in G) {
  b <- fit_bic[as.character(g), m]
  p <- nMclustParams(m, ncol(scores), g)
  rows[[length(rows) + 1]] <- data.frame(model = m, k = g, bic = b, npar = p,
                                         loglik = (b + p * log(nrow(scores))) / 2)
}
write.csv(do.call(rbind, rows), file.path(here, "mclust_bic.csv"), row.names = FALSE, na = "")
best <- Mclust(scores, G = G, modelNames = old, x = fit_bic)
write.csv(data.frame(model = best$modelName, k = best$G, bic = best$bic, loglik = best$loglik),
          file.path(here, "mclust_best.csv"), row.names = FALSE)
}

export <- function(x, name) {
  n <- nrow(x)
  d <- ncol(x)
  hcp <- hc(x, modelName = mclust.options("hcModelName"), use = mclust.options("hcUse"))
  hcl <- hclass(hcp, G)
  write.csv(hcl, file.path(here, paste0(name, "_hclass.csv")), row.names = FALSE)
  cells <- list()
  classes <- list()
  params <- list()
  for (m in models) for (g in G) {
    fit <- Mclust(x, G = g, modelNames = m, initialization = list(hcPairs = hcp),
                  verbose = FALSE)
    key <- paste0(m, "_", g)
    if (is.null(fit)) {
      cells[[key]] <- data.frame(model = m, k = g, loglik = NA, bic = NA,
                                 npar = nMclustParams(m, d, g), loglik_refit = NA,
                                 loglik_parameters = NA)
      classes[[key]] <- rep(NA_integer_, n)
      next
    }
    refit <- NA
    if (length(unique(fit$classification)) == g) {
      me_fit <- me(data = x, modelName = m, z = unmap(fit$classification),
                   control = emControl(tol = c(1e-11, 1e-11)), warn = FALSE)
      if (!is.na(me_fit$loglik)) refit <- me_fit$loglik
    }
    # mclust's loglik is that of the E-step before its last M-step; the loglik of the
    # parameters it returns (one more E-step) is what a density evaluation must give.
    # (Evaluated as VVV with the same matrices: estepVEE does not accept Mclust's parameters.)
    full <- fit$parameters
    sig <- array(full$variance$sigma, c(d, d, g))
    full$variance <- list(modelName = "VVV", d = d, G = g, sigma = sig,
                          cholsigma = array(apply(sig, 3, chol), c(d, d, g)))
    at_params <- estep(data = x, modelName = "VVV", parameters = full)$loglik
    cells[[key]] <- data.frame(model = m, k = g, loglik = fit$loglik, bic = fit$bic,
                               npar = nMclustParams(m, d, g), loglik_refit = refit,
                               loglik_parameters = at_params)
    classes[[key]] <- fit$classification
    par <- fit$parameters
    mu <- matrix(par$mean, nrow = d)
    sigma <- array(par$variance$sigma, c(d, d, g))
    for (j in 1:g) {
      params[[length(params) + 1]] <- data.frame(model = m, k = g, component = j,
                                                 what = "pro", i = 0, j = 0,
                                                 value = par$pro[j])
      params[[length(params) + 1]] <- data.frame(model = m, k = g, component = j,
                                                 what = "mean", i = 1:d, j = 0,
                                                 value = mu[, j])
      grid <- expand.grid(i = 1:d, j = 1:d)
      params[[length(params) + 1]] <- data.frame(model = m, k = g, component = j,
                                                 what = "cov", i = grid$i, j = grid$j,
                                                 value = sigma[cbind(grid$i, grid$j, j)])
    }
  }
  write.csv(do.call(rbind, cells), file.path(here, paste0(name, "_cells.csv")),
            row.names = FALSE, na = "")
  write.csv(as.data.frame(classes), file.path(here, paste0(name, "_classification.csv")),
            row.names = FALSE, na = "")
  out <- gzfile(file.path(here, paste0(name, "_parameters.csv.gz")), "w")
  write.csv(do.call(rbind, params), out, row.names = FALSE)
  close(out)
}
for (name in wanted) export(if (name == "scores") scores else real(name), name)
writeLines(capture.output(sessionInfo()), file.path(here, "session.txt"))
