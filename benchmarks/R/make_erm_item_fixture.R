# Fixture for items as a facet of the many-facet Rasch model (issue 22) from R's eRm.
#
# A fully crossed design: 300 ratees, each rated by the same 3 raters on the 3 items of each of
# 3 skills, on a 5-point scale (categories 0..4 here, scores 1..5 in the CSV). Each
# (skill, item, rater) triple is a "virtual item" of eRm; its item-category parameters follow
# the linear design of the rating-scale model (LRSM)
#   beta[i, h] = -h * (delta[skill] + b[skill, item] + alpha[rater]) - c[h]
# with c[h] = tau[1] + ... + tau[h], c[m] = 0 (thresholds sum to zero), skills and raters
# centred, and the items centred within their skill: the workbench's constraints, so the numbers
# are comparable. eRm estimates by conditional ML; person.parameter() gives ML abilities.
#
# Run from the repository root:  Rscript benchmarks/R/make_erm_item_fixture.R
# Writes tests/fixtures/erm_items/{ratings,parameters,persons,loglik}.csv and sessionInfo.txt.

suppressPackageStartupMessages(library(eRm))
out <- "tests/fixtures/erm_items"
dir.create(out, showWarnings = FALSE, recursive = TRUE)

N <- 300; S <- 3; J <- 3; R <- 3; m <- 4
skills <- paste0("S", 1:S); raters <- paste0("R", 1:R)
items <- expand.grid(rater = 1:R, item = 1:J, skill = 1:S)[, c("skill", "item", "rater")]
K <- nrow(items)
item_name <- function(s, j) paste0(skills[s], ".I", j)

# parameter positions (treatment coding: skill 1, each skill's item 1 and rater 1 at 0)
p_delta <- function(s) s - 1
p_item <- function(s, j) (S - 1) + (s - 1) * (J - 1) + (j - 1)
p_alpha <- function(r) (S - 1) + S * (J - 1) + r - 1
p_c <- function(h) (S - 1) + S * (J - 1) + (R - 1) + h
P <- p_c(m - 1)

W <- matrix(0, K * m, P)
for (i in 1:K) for (h in 1:m) {
  row <- (i - 1) * m + h
  s <- items$skill[i]; j <- items$item[i]; r <- items$rater[i]
  if (s > 1) W[row, p_delta(s)] <- -h
  if (j > 1) W[row, p_item(s, j)] <- -h
  if (r > 1) W[row, p_alpha(r)] <- -h
  if (h < m) W[row, p_c(h)] <- -1
}

set.seed(2027)
theta <- rnorm(N, 0.3, 1.1)
delta <- c(-0.4, 0.1, 0.3)
b <- rbind(c(-0.6, 0.1, 0.5), c(0.4, -0.3, -0.1), c(-0.2, 0.7, -0.5))  # rows sum to zero
alpha <- c(-0.5, 0.1, 0.4)
tau <- c(-1.4, -0.5, 0.4, 1.5)
cum <- c(0, cumsum(tau))
X <- matrix(0L, N, K)
for (i in 1:K) {
  eta <- theta - delta[items$skill[i]] - b[items$skill[i], items$item[i]] -
    alpha[items$rater[i]]
  for (v in 1:N) {
    p <- exp((0:m) * eta[v] - cum); p <- p / sum(p)
    X[v, i] <- sample(0:m, 1, prob = p)
  }
}
colnames(X) <- paste0(item_name(items$skill, items$item), ".", raters[items$rater])

fit <- LRSM(X, W, sum0 = FALSE)
stopifnot(fit$convergence <= 2)
pp <- person.parameter(fit)

# Linear map from eRm's parameters to the centred measures: the difficulty of item (s, j) is
# d[s, j] = delta[s] + b[s, j] (treatment coded); a skill is the mean of its items' d, centred
# over skills; an item is its d minus its skill's mean; raters centred; thresholds from c.
D <- function(s, j) { v <- numeric(P); if (s > 1) v[p_delta(s)] <- 1
                      if (j > 1) v[p_item(s, j)] <- 1; v }
raw <- t(sapply(1:S, function(s) Reduce(`+`, lapply(1:J, function(j) D(s, j))) / J))
Ls <- sweep(raw, 2, colMeans(raw))
Li <- do.call(rbind, lapply(1:S, function(s) t(sapply(1:J, function(j) D(s, j) - raw[s, ]))))
A <- t(sapply(1:R, function(r) { v <- numeric(P); if (r > 1) v[p_alpha(r)] <- 1; v }))
La <- sweep(A, 2, colMeans(A))
Lt <- t(sapply(1:m, function(h) { v <- numeric(P); if (h < m) v[p_c(h)] <- 1
                                  if (h > 1) v[p_c(h - 1)] <- v[p_c(h - 1)] - 1; v }))
L <- rbind(Ls, Li, La, Lt)
cov <- solve(fit$hessian)
params <- data.frame(
  facet = c(rep("skill", S), rep("item", S * J), rep("rater", R), rep("threshold", m)),
  element = c(skills, item_name(rep(1:S, each = J), rep(1:J, S)), raters,
              paste0("all:", 2:(m + 1))),
  estimate = as.vector(L %*% fit$etapar),
  se = sqrt(pmax(diag(L %*% cov %*% t(L)), 0)),
  truth = c(delta - mean(delta), as.vector(t(b)), alpha - mean(alpha), tau))
write.csv(params, file.path(out, "parameters.csv"), row.names = FALSE)

write.csv(data.frame(ratee = sprintf("P%03d", rep(1:N, K)),
                     skill = skills[rep(items$skill, each = N)],
                     item = rep(item_name(items$skill, items$item), each = N),
                     rater = raters[rep(items$rater, each = N)],
                     score = as.vector(X) + 1L),
          file.path(out, "ratings.csv"), row.names = FALSE)

# eRm's abilities are on the treatment-coded scale: centring moves them by the removed means
shift <- mean(raw %*% fit$etapar) + mean(A %*% fit$etapar)
th <- pp$thetapar$NAgroup1 - shift
write.csv(data.frame(ratee = sprintf("P%03d", as.integer(sub("P", "", names(th)))),
                     theta = as.numeric(th), se = as.numeric(pp$se.theta$NAgroup1)),
          file.path(out, "persons.csv"), row.names = FALSE)

pm <- pmat(pp); keep <- setdiff(1:N, pp$pers.ex)
Xk <- X[keep, , drop = FALSE]; joint <- 0
for (i in 1:K) {
  Pi <- pm[, (i - 1) * m + 1:m, drop = FALSE]
  Pi <- cbind(1 - rowSums(Pi), Pi)
  joint <- joint + sum(log(Pi[cbind(seq_len(nrow(Xk)), Xk[, i] + 1)]))
}
ll <- data.frame(cml_loglik = fit$loglik, joint_loglik = joint,
                 n_extreme_persons = length(pp$pers.ex), iterations = fit$iter)
write.csv(ll, file.path(out, "loglik.csv"), row.names = FALSE)
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
print(ll)
print(params)
