"""Human labels for a plan: activity kinds, gain sources, numbers.

Rating sources and dates use the one set of labels in :mod:`workbench.presentation.labels`
(re-exported here for the pages).

Examples
--------
>>> kind_label("stretch_assignment"), source_label("direct_report"), date_label("2027-01-04")
('Stretch assignment', 'Direct reports', '4 Jan 2027')
"""

from __future__ import annotations

import numpy as np

from workbench.presentation.labels import GAIN_SOURCE_LABELS, date_label, source_label

__all__ = ["kind_label", "source_label", "date_label", "number_label", "GAIN_SOURCE_LABELS"]



def kind_label(kind) -> str:
    """'role_play' -> 'Role play'."""
    text = str(kind).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def number_label(value, digits=1) -> str:
    """A number rounded for display ('–' when missing)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}"
