"""Human labels for what a person reads: activity kinds, rating sources, dates, numbers.

Examples
--------
>>> kind_label("stretch_assignment"), source_label("direct_report"), date_label("2027-01-04")
('Stretch assignment', 'Direct reports', '4 Jan 2027')
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["kind_label", "source_label", "date_label", "number_label", "GAIN_SOURCE_LABELS"]

SOURCE_LABELS = {"self": "Self", "manager": "Manager", "peer": "Peers",
                 "direct_report": "Direct reports", "other": "Others",
                 "all_others": "All others (shown sources)"}
GAIN_SOURCE_LABELS = {"measured": "measured here", "catalog": "catalog figure",
                      "default": "default"}


def kind_label(kind) -> str:
    """'role_play' -> 'Role play'."""
    text = str(kind).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def source_label(source) -> str:
    """A rating source as a reader says it ('direct_report' -> 'Direct reports')."""
    return SOURCE_LABELS.get(str(source), kind_label(source))


def date_label(value) -> str:
    """A date as '4 Jan 2027' ('' when missing)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    stamp = pd.Timestamp(value)
    return "" if pd.isna(stamp) else f"{stamp.day} {stamp:%b %Y}"


def number_label(value, digits=1) -> str:
    """A number rounded for display ('–' when missing)."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return f"{value:.{digits}f}"
