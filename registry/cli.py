"""The registry's commands in ``sigap``: ``sigap regions import FOLDER``."""

from __future__ import annotations

import argparse
from pathlib import Path

from registry.regions import RegionFileError, import_regions
from sigap.i18n import _


async def _regions_import(args: argparse.Namespace) -> None:
    try:
        added, updated = await import_regions(Path(args.folder))
    except (RegionFileError, OSError) as exc:
        raise SystemExit(str(exc)) from None
    print(_("Regions imported: %(added)s added, %(updated)s updated.", added=added, updated=updated))


def configure(sub) -> None:
    regions = sub.add_parser("regions", help="region codes")
    regions_sub = regions.add_subparsers(dest="regions_command", required=True)
    regions_import = regions_sub.add_parser("import", help="load idn-area-data CSV files from a folder")
    regions_import.add_argument("folder", help="folder with provinces.csv, regencies.csv, districts.csv, villages.csv")
    regions_import.set_defaults(handler=_regions_import, is_async=True)
