"""Add the progression stage's demo inputs to data/demo (run from the repository root).

The demo organisation is ``generate_organisation(300, seed=2026)``; with ``progression=True``
the generator adds career paths, target roles and outcomes from their own random stream,
leaving every existing table unchanged. This writes ``paths.csv``, ``outcomes.csv`` and their
truth (``truth/validity.csv``, ``truth/outcome_effects.csv``, ``truth/leaving.csv``,
``truth/composite.csv``) when they are not there yet (nothing existing is overwritten), and
gives ``people.csv`` the generator's ``target_role`` column (about a quarter of the people
aim two moves up) when it has none, after checking that every other column is the
generator's.
"""

from pathlib import Path

import pandas as pd

from workbench.synth import generate_organisation

here = Path(__file__).parent
org = generate_organisation(300, seed=2026, progression=True)
files = {here / "paths.csv": org.paths, here / "outcomes.csv": org.outcomes}
files.update({here / "truth" / f"{name}.csv": org.truth[name]
              for name in ("validity", "outcome_effects", "leaving", "composite")})
for path, frame in files.items():
    if path.exists():
        continue
    with path.open("x", encoding="utf-8", newline="") as handle:
        frame.to_csv(handle, index=False)
    print(f"wrote {path}")

people_file = here / "people.csv"
people = pd.read_csv(people_file, dtype=str, keep_default_na=False)
if "target_role" not in people:
    generated = org.people.astype(str).replace({"None": "", "nan": ""})
    if not generated[people.columns].reset_index(drop=True).equals(people):
        raise SystemExit("people.csv is not the generator's: target roles not added")
    org.people.to_csv(people_file, index=False)
    print(f"added target_role to {people_file}")
