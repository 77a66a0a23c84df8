# Fixtures for the many-facet Rasch model (workbench.calibration.rasch) from R's eRm.
#
# A fully crossed design: 200 ratees, each rated by the same 4 raters in 4 skills, on a
# 5-point scale (categories 0..4 here, scores 1..5 in the CSV). Each (skill, rater) pair is a
# "virtual item" of eRm; its item-category parameters follow the linear design
#   beta[i, h] = -h * (delta[skill] + alpha[rater]) - c[h]          (rating scale, LRSM)
#   beta[i, h] = -h * (delta[skill] + alpha[rater]) - c[skill, h]   (partial credit, LPCM)
# with c[h] = tau[1] + ... + tau[h] and c[m] = 0 (thresholds sum to zero), skills and raters
# centred (sum to zero): exactly the workbench's constraints, so the numbers are comparable.
# eRm estimates by conditional ML; person.parameter() gives ML abilities and the joint
# (unconditional) log-likelihood of the non-extreme persons.
#
# Run from the repository root:  Rscript benchmarks/R/make_erm_fixtures.R
# Writes tests/fixtures/erm/{ratings_rsm,ratings_pcm}.csv, {rsm,pcm}_parameters.csv,
# {rsm,pcm}_persons.csv, loglik.csv and sessionInfo.txt.

suppressPackageStartupMessages(library(eRm))
out <- "tests/fixtures/erm"
dir.create(out, showWarnings = FALSE, recursive = TRUE)

N <- 200; S <- 4; R <- 4; m <- 4
skills <- paste0("S", 1:S); raters <- paste0("R", 1:R)
items <- expand.grid(rater = 1:R, skill = 1:S)[, c("skill", "rater")]  # item i: (skill, rater)
K <- nrow(items)

simulate <- function(theta, delta, alpha, tau_by_skill, seed) {
  set.seed(seed)
  X <- matrix(0L, N, K)
  for (i in 1:K) {
    eta <- theta - delta[items$skill[i]] - alpha[items$rater[i]]
    cum <- c(0, cumsum(tau_by_skill[items$skill[i], ]))
    for (v in 1:N) {
      p <- exp((0:m) * eta[v] - cum); p <- p / sum(p)
      X[v, i] <- sample(0:m, 1, prob = p)
    }
  }
  colnames(X) <- paste0(skills[items$skill], ".", raters[items$rater])
  X
}

design <- function(pcm) {
  # Treatment coding (skill S1 and rater R1 at 0; eRm's optimiser diverges with sum-to-zero
  # columns here); the parameters are centred afterwards, which the conditional likelihood
  # cannot see. Columns: delta[2..S], alpha[2..R], then c[h] (h = 1..m-1) or c[s, h].
  n_c <- if (pcm) S * (m - 1) else (m - 1)
  W <- matrix(0, K * m, (S - 1) + (R - 1) + n_c)
  for (i in 1:K) for (h in 1:m) {
    row <- (i - 1) * m + h
    s <- items$skill[i]; r <- items$rater[i]
    if (s > 1) W[row, s - 1] <- -h
    if (r > 1) W[row, (S - 1) + r - 1] <- -h
    if (h < m) W[row, (S - 1) + (R - 1) + (if (pcm) (s - 1) * (m - 1) + h else h)] <- -1
  }
  W
}

long <- function(X) {
  data.frame(ratee = sprintf("P%03d", rep(1:N, K)),
             skill = skills[rep(items$skill, each = N)],
             rater = raters[rep(items$rater, each = N)],
             score = as.vector(X) + 1L)
}

centre <- function(k) (diag(k) - 1 / k) %*% rbind(0, diag(k - 1))  # (0, x) -> centred

unpack <- function(eta, cov, pcm) {
  # Centred skills and raters with their SEs (delta method on eRm's covariance), and the
  # thresholds tau[h] = c[h] - c[h-1] (c[0] = c[m] = 0) with SEs.
  p <- length(eta)
  Ls <- matrix(0, S, p); Ls[, 1:(S - 1)] <- centre(S)
  La <- matrix(0, R, p); La[, (S - 1) + 1:(R - 1)] <- centre(R)
  groups <- if (pcm) skills else "all"
  Lt <- NULL
  for (g in seq_along(groups)) {
    first <- (S - 1) + (R - 1) + (g - 1) * (m - 1)
    Lg <- matrix(0, m, p)
    for (h in 1:m) {
      if (h < m) Lg[h, first + h] <- 1
      if (h > 1) Lg[h, first + h - 1] <- Lg[h, first + h - 1] - 1
    }
    Lt <- rbind(Lt, Lg)
  }
  L <- rbind(Ls, La, Lt)
  est <- as.vector(L %*% eta)
  se <- sqrt(pmax(diag(L %*% cov %*% t(L)), 0))
  data.frame(facet = c(rep("skill", S), rep("rater", R), rep("threshold", nrow(Lt))),
             element = c(skills, raters, paste0(rep(groups, each = m), ":", rep(2:(m + 1),
                                                                               length(groups)))),
             estimate = est, se = se)
}

fit_one <- function(pcm, seed) {
  theta <- rnorm(N, 0.3, 1.1)
  delta <- c(-0.5, 0.0, 0.15, 0.35)
  alpha <- c(-0.6, -0.1, 0.25, 0.45)
  tau <- if (pcm) rbind(c(-1.4, -0.5, 0.4, 1.5), c(-1.0, -0.6, 0.5, 1.1),
                        c(-1.8, -0.2, 0.3, 1.7), c(-1.2, -0.4, 0.2, 1.4))
         else matrix(rep(c(-1.4, -0.5, 0.4, 1.5), S), S, byrow = TRUE)
  X <- simulate(theta, delta, alpha, tau, seed)
  W <- design(pcm)
  fit <- if (pcm) LPCM(X, W, sum0 = FALSE) else LRSM(X, W, sum0 = FALSE)
  stopifnot(fit$convergence <= 2)
  pp <- person.parameter(fit)
  name <- if (pcm) "pcm" else "rsm"
  write.csv(long(X), file.path(out, paste0("ratings_", name, ".csv")), row.names = FALSE)
  params <- unpack(fit$etapar, solve(fit$hessian), pcm)
  write.csv(params, file.path(out, paste0(name, "_parameters.csv")), row.names = FALSE)
  # eRm's abilities are on the treatment-coded scale; centring skills and raters moves them by
  # the means that were removed.
  shift <- mean(c(0, fit$etapar[1:(S - 1)])) + mean(c(0, fit$etapar[(S - 1) + 1:(R - 1)]))
  th <- pp$thetapar$NAgroup1 - shift
  write.csv(data.frame(ratee = sprintf("P%03d", as.integer(sub("P", "", names(th)))),
                       theta = as.numeric(th), se = as.numeric(pp$se.theta$NAgroup1)),
            file.path(out, paste0(name, "_persons.csv")), row.names = FALSE)
  # The joint log-likelihood from eRm's own model probabilities (pmat: P(x = h), h >= 1) at
  # its estimates; pp$loglik is left as reported (it does not equal this for these models).
  pm <- pmat(pp); keep <- setdiff(1:N, pp$pers.ex)
  Xk <- X[keep, , drop = FALSE]; joint <- 0
  for (i in 1:K) {
    P <- pm[, (i - 1) * m + 1:m, drop = FALSE]
    P <- cbind(1 - rowSums(P), P)
    joint <- joint + sum(log(P[cbind(seq_len(nrow(Xk)), Xk[, i] + 1)]))
  }
  data.frame(model = name, cml_loglik = fit$loglik, joint_loglik = joint,
             person_parameter_loglik = pp$loglik,
             n_extreme_persons = length(pp$pers.ex), iterations = fit$iter)
}

set.seed(2026)
if (!exists("DEBUG")) {
ll <- rbind(fit_one(FALSE, 11), fit_one(TRUE, 12))
write.csv(ll, file.path(out, "loglik.csv"), row.names = FALSE)
writeLines(capture.output(sessionInfo()), file.path(out, "sessionInfo.txt"))
print(ll)
}
