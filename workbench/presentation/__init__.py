"""What every stage shows a person, below the stages that show it: human labels for codes
(``labels``) and the house stylesheet of every HTML page (``style``). The plans' person pages
and the reporting stage both read them, so they sit at the bottom of the layers.

Examples
--------
>>> from workbench.presentation import source_label
>>> source_label("direct_report")
'Direct reports'
"""

from __future__ import annotations

from workbench._lazy import lazy_exports

MODULES = ("labels", "style")

__getattr__, __dir__ = lazy_exports(globals(), MODULES)
