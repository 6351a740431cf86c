"""The topics of the log entries an archive reads back: the signatories' keys (the writer puts
them in the bag, the verifier checks certificates against them), the certificates themselves and
the disposition acts that name the entries whose payloads are missing.

They are stored topics (``ledger.domain.topics``): fixed strings, whatever the Python classes'
paths become, because the archived entries carry them.
"""

from __future__ import annotations

CERTIFIED_TOPIC = "ledger.domain.certification:DocumentCertification.Certified"
SIGNATORY_TOPICS = (
    "ledger.domain.certification:SignatoryKey.Registered",
    "ledger.domain.certification:SignatoryKey.Replaced",
)
ACT_TOPIC = "ledger.domain.disposition:DispositionAct.Recorded"
