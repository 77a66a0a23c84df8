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
# Each model is fitted and exported (fixed.csv, varcomp.csv, blups_<term>.csv.gz, meta.json)
# by export_fit of benchmarks/R/lme4_export.R, which both fixture scripts source.
script_name <- "benchmarks/R/make_lme4_item_fixture.R"
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(here, "lme4_export.R"))  # export_fit, sorted_factor, out_dir (the argument)


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
