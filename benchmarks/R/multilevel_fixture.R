# Reference numbers from R's multilevel package for tests/calibration (run by hand, never by
# the tests):
#
#   Rscript benchmarks/R/multilevel_fixture.R
#
# lq2002 (Bliese, Halverson & Schriesheim 2002): 2,042 soldiers in 49 companies rate their
# leaders (LEAD, 11 items), task significance (TSIG, 3) and hostility (HOSTILE, 5); each
# soldier rates their own company only: raters nested in groups.
# Outputs (tests/fixtures/multilevel/):
#   lq2002.csv   COMPID, SUB and the 19 items
#   icc.csv      scale, icc1, icc2 (multilevel's ICC1 and ICC2 of aov(scale ~ COMPID)),
#                msb, msw, n_groups, n: the ANOVA's mean squares
#   lq2002_lmer.csv  lme4's REML fit of the leadership and task-significance scales (the mean
#                of each soldier's items) as 360 ratings, raters nested in ratees:
#                lmer(score ~ skill + (1 | ratee) + (1 | ratee:skill) + (1 | rater)):
#                component, variance (and the REML criterion as component "REML")
#   session.txt  sessionInfo()
suppressPackageStartupMessages(library(multilevel))
suppressPackageStartupMessages(library(lme4))
here <- "tests/fixtures/multilevel"
data(lq2002)
items <- grep("^(LEAD|TSIG|HOSTIL)[0-9]", names(lq2002), value = TRUE)
write.csv(lq2002[, c("COMPID", "SUB", items)], file.path(here, "lq2002.csv"), row.names = FALSE)
rows <- list()
for (scale in c("LEAD", "TSIG", "HOSTILE")) {
  fit <- aov(lq2002[[scale]] ~ as.factor(lq2002$COMPID))
  tab <- summary(fit)[[1]]
  rows[[scale]] <- data.frame(scale = scale, icc1 = ICC1(fit), icc2 = ICC2(fit),
                              msb = tab[1, 3], msw = tab[2, 3],
                              n_groups = length(unique(lq2002$COMPID)), n = nrow(lq2002))
}
write.csv(do.call(rbind, rows), file.path(here, "icc.csv"), row.names = FALSE)
long <- rbind(
  data.frame(ratee = lq2002$COMPID, rater = paste(lq2002$COMPID, lq2002$SUB, sep = "-"),
             skill = "LEAD", score = rowMeans(lq2002[, sprintf("LEAD%02d", 1:11)])),
  data.frame(ratee = lq2002$COMPID, rater = paste(lq2002$COMPID, lq2002$SUB, sep = "-"),
             skill = "TSIG", score = rowMeans(lq2002[, sprintf("TSIG%02d", 1:3)])))
fit <- lmer(score ~ skill + (1 | ratee) + (1 | ratee:skill) + (1 | rater), data = long,
            REML = TRUE, control = lmerControl(optimizer = "bobyqa",
                                                optCtrl = list(rhobeg = 2e-4, rhoend = 2e-11)))
vc <- as.data.frame(VarCorr(fit))
out <- data.frame(component = c(vc$grp, "REML"),
                  variance = c(vc$vcov, as.numeric(REMLcrit(fit))))
write.csv(out, file.path(here, "lq2002_lmer.csv"), row.names = FALSE)
writeLines(capture.output(sessionInfo()), file.path(here, "session.txt"))
