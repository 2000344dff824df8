"""Import and export of the LKS register as a spreadsheet: a sub-domain of
the registry with the same shape as every domain (``services`` the entry
points and rules, ``controllers`` the pages, ``tables`` the kept uploads)
and its helpers: ``columns`` (the headers), ``reading`` (CSV and XLSX
files), ``planning`` (the row-by-row dry run), ``export`` (writing the
files) and ``staging`` (uploads kept between the dry run and the commit)."""
