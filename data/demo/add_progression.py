"""Add the progression stage's demo inputs to data/demo (run once from the repository root).

The demo organisation is ``generate_organisation(300, seed=2026)``; with ``progression=True``
the generator adds career paths and outcomes from their own random stream, leaving every
existing table unchanged. This writes ``paths.csv``, ``outcomes.csv`` and their truth
(``truth/validity.csv``, ``truth/outcome_effects.csv``, ``truth/leaving.csv``,
``truth/composite.csv``); ``people.csv`` is left as it was (no target roles in the demo), and
nothing existing is overwritten.
"""

from pathlib import Path

from workbench.synth import generate_organisation

here = Path(__file__).parent
org = generate_organisation(300, seed=2026, progression=True)
files = {here / "paths.csv": org.paths, here / "outcomes.csv": org.outcomes}
files.update({here / "truth" / f"{name}.csv": org.truth[name]
              for name in ("validity", "outcome_effects", "leaving", "composite")})
for path, frame in files.items():
    with path.open("x", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)
    print(f"wrote {path}")
