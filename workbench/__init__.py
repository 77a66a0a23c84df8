"""Talent-analytics workbench: 360 ratings into calibrated scores, profiles, impact and plans."""

from workbench.data import (
    ColumnMapping,
    Organisation,
    Scale,
    load_organisation,
    load_table,
    summarise_organisation,
)
from workbench.errors import ConfigError, InputError, ModelError, Problem, WorkbenchError
from workbench.synth import SyntheticOrganisation, generate_organisation, write_organisation

__version__ = "0.1.0"

__all__ = [
    "ColumnMapping",
    "ConfigError",
    "InputError",
    "ModelError",
    "Organisation",
    "Problem",
    "Scale",
    "SyntheticOrganisation",
    "WorkbenchError",
    "generate_organisation",
    "load_organisation",
    "load_table",
    "summarise_organisation",
    "write_organisation",
]
