"""Import files kept between their dry run and their commit."""

from __future__ import annotations

from piccolo.columns import Timestamptz, Varchar
from piccolo.table import Table


class StagedImport(Table, tablename="registry_staged_import"):
    """An uploaded import file, stored in the document storage under
    ``staging/import/<token>`` (shared by every app instance). The row is
    what makes the file single-use: the one commit that sets ``claimed_at``
    applies it."""

    token = Varchar(length=32, unique=True, index=True)
    created_at = Timestamptz(index=True)
    claimed_at = Timestamptz(null=True, default=None)
