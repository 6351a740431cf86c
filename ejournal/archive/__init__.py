"""Keeping records over their retention period (п. 1.1, 2.10–2.11, 3.2; I7): school-year archives
as BagIt bags an auditor verifies offline, the summary sheet recomputed from a log's payloads,
and backups that restore and verify. The archive's format and its offline verifier are pure
mathematics and live in ``integrity.archive``; this room writes bags from the database.
"""
