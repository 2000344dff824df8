"""Every benchmark scenario, registered: importing this module imports the
scenario modules (each ``@scenario`` adds itself to ``SCENARIOS``) and
re-exports what the runner needs. The shared parts are in ``bench.core``;
the scenarios in ``bench.pages`` (the default run: bare endpoint, every
main page and JSON list), ``bench.registry_scenarios`` (the register at
100,000 LKS), ``bench.public_register`` (the public register's search at
100,000 LKS) and ``bench.upload`` (a 200 MiB upload)."""

from __future__ import annotations

import bench.pages  # noqa: F401  (registers the page scenarios)
import bench.registry_scenarios  # noqa: F401
import bench.public_register  # noqa: F401
import bench.upload  # noqa: F401
from bench.core import (
    BASELINE,
    LATENCY_TARGET_MANY_MS,
    LATENCY_TARGET_MS,
    SCENARIOS,
    Context,
    Spec,
    UploadResult,
    default_scenarios,
    registry_scenarios,
)

__all__ = [
    "BASELINE", "LATENCY_TARGET_MANY_MS", "LATENCY_TARGET_MS", "SCENARIOS", "Context", "Spec", "UploadResult",
    "default_scenarios", "registry_scenarios",
]
