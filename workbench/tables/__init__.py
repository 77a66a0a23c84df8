"""Input tables: column contracts, readers (csv/xlsx/parquet), column mapping, validation of one
table and of all tables together (the Organisation), the summary of what arrived, the scores
contract every later stage reads, what each role requires (the one definition of a gap), and survey
exports (one row per response, one column per item) read through an instrument into the ratings
contract.
"""

from __future__ import annotations

from workbench.tables import (
    columns,
    formats,
    instrument,
    mapping,
    organisation,
    readers,
    requirements,
    scores,
    summary,
    survey,
    validate,
)
from workbench.tables.columns import *  # noqa: F403
from workbench.tables.formats import *  # noqa: F403
from workbench.tables.instrument import *  # noqa: F403
from workbench.tables.mapping import *  # noqa: F403
from workbench.tables.organisation import *  # noqa: F403
from workbench.tables.readers import *  # noqa: F403
from workbench.tables.requirements import *  # noqa: F403
from workbench.tables.scores import *  # noqa: F403
from workbench.tables.summary import *  # noqa: F403
from workbench.tables.survey import *  # noqa: F403
from workbench.tables.validate import *  # noqa: F403

__all__ = [
    *columns.__all__,
    *formats.__all__,
    *mapping.__all__,
    *readers.__all__,
    *validate.__all__,
    *instrument.__all__,
    *survey.__all__,
    *organisation.__all__,
    *summary.__all__,
    *scores.__all__,
    *requirements.__all__,
]
