# Reference numbers from R's mclust for tests/test_profiles.py (run by hand, never by the tests).
#
#   Rscript benchmarks/R/mclust_fixture.R
#
# Input: tests/fixtures/mclust/scores.csv, a 300 x 8 ratee-by-skill matrix: the mean non-self
# wave-1 rating per ratee and skill of the committed demo organisation (data/demo, seed 2026).
# Output (tests/fixtures/mclust/):
#   mclust_bic.csv     model, k, bic (mclust sign: 2 loglik - npar log n), npar, loglik
#   mclust_best.csv    model, k, bic, loglik of the BIC-best model
#   session.txt        R and mclust versions
# loglik is recovered from mclust's BIC table as (bic + npar log n) / 2 with mclust's own
# parameter count (nMclustParams); mclust's default initialisation (hierarchical agglomeration
# on SVD-transformed data) and EM tolerances are used.
suppressPackageStartupMessages(library(mclust))
here <- "tests/fixtures/mclust"
x <- read.csv(file.path(here, "scores.csv"), row.names = 1, check.names = FALSE)
x <- as.matrix(x)
models <- c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "EVV", "VVV")
fit_bic <- mclustBIC(x, G = 1:8, modelNames = models)
n <- nrow(x)
d <- ncol(x)
rows <- list()
for (m in models) {
  for (g in 1:8) {
    b <- fit_bic[as.character(g), m]
    p <- nMclustParams(m, d, g)
    rows[[length(rows) + 1]] <- data.frame(model = m, k = g, bic = b, npar = p,
                                           loglik = (b + p * log(n)) / 2)
  }
}
table <- do.call(rbind, rows)
write.csv(table, file.path(here, "mclust_bic.csv"), row.names = FALSE, na = "")
best <- Mclust(x, G = 1:8, modelNames = models, x = fit_bic)
write.csv(data.frame(model = best$modelName, k = best$G, bic = best$bic, loglik = best$loglik),
          file.path(here, "mclust_best.csv"), row.names = FALSE)
writeLines(c(R.version.string, paste("mclust", packageVersion("mclust"))),
           file.path(here, "session.txt"))
print(summary(fit_bic))
