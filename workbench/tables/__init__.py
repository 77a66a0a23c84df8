"""Input tables: column contracts, readers (csv/xlsx/parquet), column mapping, validation of one
table and of all tables together (the Organisation), the summary of what arrived, the scores
contract every later stage reads, what each role requires (the one definition of a gap), and survey
exports (one row per response, one column per item) read through an instrument into the ratings
contract.
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("columns", "formats", "mapping", "readers", "validate", "instrument", "survey",
           "organisation", "summary", "scores", "requirements")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
