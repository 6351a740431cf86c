"""Who someone is, and what is kept about them outside the ledger (п. 1.7, 4.1–4.2; I9).

Passwords (Argon2id) and the throttle on password checks, credentials by version, login sessions,
the authenticator that binds them to the ledger's accounts, the personal-data vault (encrypted per
person) and the access log of every read of a child's data. None of it is a ledger event: it must
be changeable and destroyable, which a ledger entry never is.
"""
