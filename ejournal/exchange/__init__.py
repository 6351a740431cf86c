"""School data in and out: the school's spreadsheets imported through the commands, all or
nothing, and the set-up, the class journal and the summary sheet exported to XLSX and CSV.

- ``importer.Importer``: files (``Upload``) → a ``Report``; written only if every row is good.
- ``sheets``: the sheet kinds (subjects, staff, classes, pupils, parents, assignments,
  timetable, КТП), each declared once for both directions.
- ``exports``: the set-up in the import's format, the class journal and the summary sheet.
- ``files``: reading XLSX and CSV (UTF-8 or Windows-1251, «;» or «,»), writing them.
"""
