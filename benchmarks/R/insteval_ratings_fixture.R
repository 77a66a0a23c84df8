# lme4 reference for InstEval cast as 360 ratings (issue #12): ratee = lecturer (d),
# rater = student (s), one item per pair, one skill, one source. The calibration CLI with no
# --terms must fit the largest identifiable model, score ~ 1 + (1|ratee) + (1|rater).
# Run from the repository root: Rscript benchmarks/R/insteval_ratings_fixture.R
suppressPackageStartupMessages(library(lme4))
out <- "tests/fixtures/lme4/insteval_ratings"
dir.create(out, showWarnings = FALSE, recursive = TRUE)
d <- read.csv(gzfile("tests/fixtures/lme4/insteval.csv.gz"), colClasses = "character")
d$score <- as.numeric(d$y)
ctrl <- lmerControl(optimizer = "bobyqa", optCtrl = list(maxfun = 1e5, rhobeg = 0.2, rhoend = 1e-10))
fit <- lmer(score ~ 1 + (1 | d) + (1 | s), data = d, REML = TRUE, control = ctrl)
vc <- as.data.frame(VarCorr(fit))
write.csv(data.frame(term = c("ratee", "rater", "residual"),
                     variance = c(vc$vcov[vc$grp == "d"], vc$vcov[vc$grp == "s"], sigma(fit)^2)),
          file.path(out, "varcomp.csv"), row.names = FALSE)
fe <- summary(fit)$coefficients
write.csv(data.frame(name = rownames(fe), estimate = fe[, 1], se = fe[, 2]),
          file.path(out, "fixed.csv"), row.names = FALSE)
re <- ranef(fit, condVar = TRUE)$d
write.csv(data.frame(level = rownames(re), estimate = re[, 1],
                     se = sqrt(attr(re, "postVar")[1, 1, ])),
          gzfile(file.path(out, "blups_ratee.csv.gz")), row.names = FALSE)
writeLines(sprintf('{"formula": "score ~ 1 + (1 | ratee) + (1 | rater)", "ratee": "d", "rater": "s", "REMLcrit": %.12f, "n_obs": %d, "lme4_version": "%s"}',
                   REMLcrit(fit), nobs(fit), as.character(packageVersion("lme4"))),
           file.path(out, "meta.json"))
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
