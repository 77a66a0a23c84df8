"""What a client and an analyst see: the HTML report, display helpers and the explorer.
"""

from __future__ import annotations

from workbench.reporting import client_report, explorer
from workbench.reporting.client_report import *  # noqa: F403
from workbench.reporting.explorer import *  # noqa: F403

__all__ = [*client_report.__all__, *explorer.__all__]
