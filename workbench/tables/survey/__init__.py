"""Survey exports as they come (one row per response, one column per item), turned long.

``reading`` is the front door (:func:`read_survey`, :func:`read_ratings`; the shapes are
described there); ``settings`` checks the mapping's ``survey:`` section and finds the
instrument; ``shapes`` recognises the platform and resolves its header rows;
``export_columns`` finds the id, item and metadata columns; ``wide_to_long`` types the
responses and melts them into the ratings contract; ``long_items`` reads a long file with items
the same way; ``report`` is the :class:`SurveyReading` that says what was understood.

Examples
--------
>>> from workbench.tables.survey import read_survey
>>> read_survey.__module__
'workbench.tables.survey.reading'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("settings", "shapes", "report", "reading", "export_columns", "wide_to_long",
           "long_items")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
