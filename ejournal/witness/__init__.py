"""Witnesses (C2SP tlog-witness): the server a district or an archive runs, which cosigns each
checkpoint of a school's logs only if it is consistent with what it cosigned before, and the client
with which the service submits its checkpoints and asks for the witnesses' view."""
