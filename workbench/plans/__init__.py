"""Stage 4: personalised learning plans: gaps, focus skills, expected gains, activities,
schedule, goals, mentors, training demand, person pages and the confidentiality rules for what
a client sees.
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("config", "inputs", "gaps", "gains", "activities", "schedule", "goals", "mentors",
           "demand", "confidentiality", "records", "result", "display", "labels", "pages", "write",
           "build", "toward")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
