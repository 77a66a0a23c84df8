"""What a client and an analyst see: display helpers, figures, the HTML report, the explorer.

    display      output folder, display tables, figures and Excel files in a notebook
    figures      plot helpers (each returns its Figure)
    views        client tables and sentences made from analysis results (reliability, agreement)
    html_report  the client's report.html (report stylesheet = house style + its layout)
    disclosure   checks that client files name no rater (report, person pages, plans, tables)
    explorer     the analyst's interactive widgets (notebook 00)
"""

from __future__ import annotations

from workbench.reporting import (
    disclosure,
    display,
    explorer,
    figures,
    html_report,
    views,
)
from workbench.reporting.disclosure import *  # noqa: F403
from workbench.reporting.display import *  # noqa: F403
from workbench.reporting.explorer import *  # noqa: F403
from workbench.reporting.figures import *  # noqa: F403
from workbench.reporting.html_report import *  # noqa: F403
from workbench.reporting.views import *  # noqa: F403

__all__ = [
    *display.__all__,
    *figures.__all__,
    *views.__all__,
    *html_report.__all__,
    *disclosure.__all__,
    *explorer.__all__,
]
