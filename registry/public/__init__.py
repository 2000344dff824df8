"""The registry's public face: the register anyone may search (``/register``)
and the check of a printed Tanda Daftar (``/verify``). No sign-in, no
session, no restricted field (see ``services.PUBLIC_COLUMNS``)."""
