"""Input tables: column contracts, readers (csv/xlsx/parquet), column mapping, cross-file
validation, the Organisation, the scores contract every later stage reads, and safe writers.
"""

from __future__ import annotations

from workbench.tables import data, scores, writers
from workbench.tables.data import *  # noqa: F403
from workbench.tables.scores import *  # noqa: F403
from workbench.tables.writers import *  # noqa: F403

__all__ = [*writers.__all__, *data.__all__, *scores.__all__]
