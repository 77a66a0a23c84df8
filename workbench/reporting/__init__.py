"""What a client and an analyst see: display helpers, figures, the HTML report, the explorer.

    display      output folder, display tables, figures and Excel files in a notebook
    figures      plot helpers (each returns its Figure)
    views        client tables and sentences made from analysis results (reliability, agreement)
    html_report  the client's report.html (report stylesheet = house style + its layout)
    disclosure   checks that client files name no rater (report, person pages, plans, tables)
    explorer     the analyst's interactive widgets (notebook 00)
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("display", "figures", "views", "html_report", "disclosure", "explorer")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
