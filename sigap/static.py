"""Static files with their content hash in the URL (``static_url``), so the
browser may keep them for a year and still sees a new version at once."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path


class StaticFiles:
    def __init__(self, root: Path) -> None:
        self.root = root

    @cache  # noqa: B019 - one instance per app; files change only with a deploy
    def url(self, name: str) -> str:
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()) or not path.is_file():
            raise FileNotFoundError(f"no static file {name!r}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        return f"/static/{name}?v={digest}"
