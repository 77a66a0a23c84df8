"""The input tables' public names in one import (``from workbench.tables.data import ...``).

The work is done in single-purpose modules; this module only gathers their names for callers
that import them from one place:

=================  =============================================================
``columns``        contracts (tables, columns, kinds, choices) and the Scale
``readers``        CSV / Excel / Parquet into text tables with the file's row numbers
``mapping``        client column names and source labels, YAML
``validate``       typing and checking one table, single-table loaders, waves
``organisation``   every table together, cross-file checks, ``load_organisation``
``summary``        what data arrived (``summarise_organisation``)
=================  =============================================================

Examples
--------
>>> from workbench.tables.data import load_organisation, summarise_organisation
>>> org = load_organisation("data/demo")            # doctest: +SKIP
>>> print(summarise_organisation(org).summary())    # doctest: +SKIP
"""

from __future__ import annotations

from workbench.tables.columns import (
    ACTIVITY_KINDS,
    CONTRACTS,
    GAP_TYPES,
    SOURCES,
    SUFFIXES,
    TABLES,
    Scale,
)
from workbench.tables.mapping import ColumnMapping, read_yaml
from workbench.tables.organisation import Organisation, find_table_files, load_organisation
from workbench.tables.readers import read_table
from workbench.tables.summary import OrganisationSummary, summarise_organisation
from workbench.tables.validate import (
    MAX_ROWS_PER_PROBLEM,
    InputWarning,
    load_catalog,
    load_enrollments,
    load_framework,
    load_people,
    load_ratings,
    load_scale,
    load_table,
)

# The same objects as their owners export (the subpackage re-exports the owners, not this).
__all__ = [
    "ACTIVITY_KINDS", "CONTRACTS", "GAP_TYPES", "SOURCES", "SUFFIXES", "TABLES", "Scale",
    "ColumnMapping", "read_yaml", "Organisation", "find_table_files", "load_organisation",
    "read_table", "OrganisationSummary", "summarise_organisation", "MAX_ROWS_PER_PROBLEM",
    "InputWarning", "load_catalog", "load_enrollments", "load_framework", "load_people",
    "load_ratings", "load_scale", "load_table",
]
