"""The pages, a module per reader: ``auth`` (login, logout, password), ``home``, ``teacher``
(my day, the lesson, the class journal), ``family`` (the diary, marks), ``school`` (the head's
and deputies' sheets, monitor, breaches), ``ledger`` (the auditor's)."""
