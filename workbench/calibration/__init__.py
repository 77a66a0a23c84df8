"""Stage 1: calibrated scores net of rater bias (the REML engine, calibration, reliability,
self-other agreement; the many-facet Rasch model as the ordinal alternative).
"""

from __future__ import annotations

from workbench.calibration import (
    agreement,
    calibrate,
    coverage,
    generalizability,
    handover,
    identifiability,
    mixed_design,
    mixed_model,
    rasch,
    rasch_bias,
    rasch_compare,
    rasch_connectivity,
    rasch_estimation,
    rasch_facets,
    rasch_figures,
    rasch_fit,
    reliability,
    reliability_summary,
    result,
    vc_uncertainty,
    wave_covariance,
)
from workbench.calibration.agreement import *  # noqa: F403
from workbench.calibration.calibrate import *  # noqa: F403
from workbench.calibration.coverage import *  # noqa: F403
from workbench.calibration.generalizability import *  # noqa: F403
from workbench.calibration.handover import *  # noqa: F403
from workbench.calibration.identifiability import *  # noqa: F403
from workbench.calibration.mixed_design import *  # noqa: F403
from workbench.calibration.mixed_model import *  # noqa: F403
from workbench.calibration.rasch import *  # noqa: F403
from workbench.calibration.rasch_bias import *  # noqa: F403
from workbench.calibration.rasch_compare import *  # noqa: F403
from workbench.calibration.rasch_connectivity import *  # noqa: F403
from workbench.calibration.rasch_estimation import *  # noqa: F403
from workbench.calibration.rasch_facets import *  # noqa: F403
from workbench.calibration.rasch_figures import *  # noqa: F403
from workbench.calibration.rasch_fit import *  # noqa: F403
from workbench.calibration.reliability import *  # noqa: F403
from workbench.calibration.reliability_summary import *  # noqa: F403
from workbench.calibration.result import *  # noqa: F403
from workbench.calibration.vc_uncertainty import *  # noqa: F403
from workbench.calibration.wave_covariance import *  # noqa: F403

__all__ = [*mixed_design.__all__, *mixed_model.__all__, *identifiability.__all__,
           *result.__all__, *calibrate.__all__, *handover.__all__, *reliability.__all__,
           *generalizability.__all__, *reliability_summary.__all__, *agreement.__all__,
           *coverage.__all__, *vc_uncertainty.__all__,
           *rasch.__all__, *rasch_estimation.__all__, *rasch_fit.__all__, *rasch_facets.__all__,
           *rasch_bias.__all__, *rasch_compare.__all__, *rasch_connectivity.__all__,
           *rasch_figures.__all__, *wave_covariance.__all__]
