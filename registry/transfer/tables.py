"""Import files kept between their dry run and their commit, and the column
mappings staff confirmed (remembered for the next file with that header)."""

from __future__ import annotations

from piccolo.columns import Text, Timestamptz, Varchar
from piccolo.table import Table


class StagedImport(Table, tablename="registry_staged_import"):
    """An uploaded import file, stored in the document storage under
    ``staging/import/<token>`` (shared by every app instance). The row is
    what makes the file single-use: the one commit that sets ``claimed_at``
    applies it; the row stays (the file goes) so that a second commit is
    told it was applied already."""

    token = Varchar(length=32, unique=True, index=True)
    created_at = Timestamptz(index=True)
    claimed_at = Timestamptz(null=True, default=None)
    # The confirmed mapping of its columns (JSON: sheet header → field), "" until confirmed.
    mapping = Text(default="")
    applied_at = Timestamptz(null=True, default=None)


class ImportMapping(Table, tablename="registry_import_mapping"):
    """A mapping staff confirmed for a header: the next file whose header
    has the same words (``office.signature``) is offered it again."""

    signature = Varchar(length=64, unique=True, index=True)
    mapping = Text(default="{}")  # JSON: sheet header → field
    updated_at = Timestamptz()
    updated_by = Varchar(length=150, default="")
