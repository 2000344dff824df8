"""Import and export of the LKS register as a spreadsheet: a sub-domain of
the registry with the same shape as every domain (``services`` the entry
points and rules, ``controllers`` the pages and the API, ``tables`` the kept
uploads and the remembered column mappings) and its helpers: ``columns``
(the template's headers), ``office`` (the office's own header words and
cell habits: title rows, RT/RW and counts in one cell, Indonesian dates,
``Yay.``, accreditation words), ``reading`` (CSV and XLSX files, the header
row, the mapping, the caps on a cell), ``places`` (kelurahan and kecamatan
matched forgivingly), ``rows`` (a row → the fields of an LKS),
``planning`` (the row-by-row dry run), ``export`` (writing the files) and
``staging`` (uploads kept between the dry run and the commit)."""
