"""Reports of LKS that are not (or not yet) registered, from partners in the
field (kelurahan, kecamatan, Satpol PP) and from Dinas Sosial staff: a report
either creates an ``unregistered`` LKS or attaches to one already known, which
starts the 14-day check of joint monitoring; staff then record its outcome.

A public report (``/lapor``) triaged as "an unregistered LKS" becomes one of
these with ``source = "public"`` and its tracking code in ``source_ref``."""
