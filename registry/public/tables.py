"""The certificates printed with a check code: one row per Tanda Daftar
(number + issue date), made when its PDF is first printed."""

from __future__ import annotations

from piccolo.columns import Date, ForeignKey, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from registry.tables import Lks


class IssuedCertificate(Table, tablename="registry_issued_certificate"):
    """A printed Tanda Daftar and its check code. The code is derived from
    the number and the issue date with the secret key (``services.code_for``),
    so printing again gives the same code; a renewal has a new number, hence
    a new code, and the old one reads "superseded"."""

    lks = ForeignKey(references=Lks, on_delete=OnDelete.cascade, index=True)
    certificate_number = Varchar(length=64)
    issued_on = Date()
    valid_until = Date(null=True, default=None)
    code = Varchar(length=12, unique=True, index=True)
    created_at = Timestamptz()
