# lme4 reference fixtures for tests/test_lme4_reference.py.
#
# Usage: Rscript benchmarks/R/make_lme4_fixtures.R tests/fixtures/lme4
# (benchmarks/make_lme4_fixtures.py writes org500_ratings.csv.gz first, then calls this.)
#
# Each model is fitted and exported (fixed.csv, varcomp.csv, blups_<term>.csv.gz, meta.json)
# by export_fit of benchmarks/R/lme4_export.R, which both fixture scripts source.
script_name <- "benchmarks/R/make_lme4_fixtures.R"
here <- dirname(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)))
source(file.path(here, "lme4_export.R"))  # export_fit, sorted_factor, out_dir (the argument)

# (a) the generated organisation of 500 people (written by make_lme4_fixtures.py)
org <- read.csv(gzfile(file.path(out_dir, "org500_ratings.csv.gz")),
                colClasses = c(ratee = "character", rater = "character",
                               source = "character", skill = "character"))
for (col in c("ratee", "rater", "source", "skill")) org[[col]] <- sorted_factor(org[[col]])
export_fit("org500",
           score ~ source + skill + (1 | ratee) + (1 | ratee:skill) + (1 | rater) +
             (1 | rater:ratee),
           org, c("ratee", "ratee:skill", "rater", "rater:ratee"))

# (b) lme4's InstEval: exported once as data, then fitted from the exported file
inst_path <- file.path(out_dir, "insteval.csv.gz")
if (!file.exists(inst_path)) {
  data(InstEval, package = "lme4")
  con <- gzfile(inst_path, "w")
  write.csv(data.frame(s = as.character(InstEval$s), d = as.character(InstEval$d),
                       dept = as.character(InstEval$dept),
                       service = as.character(InstEval$service), y = InstEval$y),
            con, row.names = FALSE, quote = FALSE)
  close(con)
}
inst <- read.csv(gzfile(inst_path), colClasses = c(s = "character", d = "character",
                                                   dept = "character", service = "character"))
for (col in c("s", "d", "dept", "service")) inst[[col]] <- sorted_factor(inst[[col]])
export_fit("insteval", y ~ service + (1 | s) + (1 | d) + (1 | dept), inst, c("s", "d", "dept"))
