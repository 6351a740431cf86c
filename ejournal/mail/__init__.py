"""Parents' e-mail (п. 1.6): subscriptions confirmed by link or code, the weekly diary digest, and
its delivery over SMTP through an outbox that sends each week's digest to each address once.

- ``settings``: the SMTP server, the sender, the public URL of links, the weekly schedule.
- ``tables``: the service tables (outbox, attempts, link tokens, an index of subscriptions).
- ``addresses``: addresses in the personal-data vault (I9), never in the ledger.
- ``digest``: the week's diary from the read models (п. 4.4 exclusions included), as text, HTML
  and an optional PDF.
- ``smtp``: the transport (plain, STARTTLS or TLS, with login), replies classified.
- ``outbox``: the outbox table: rows put in, the row a sender claims, bounces and counts read.
- ``tokens``: the secrets of the messages' links (confirm, unsubscribe) and confirmation codes.
- ``subscriptions``: subscribe, confirm by link or code, unsubscribe, a parent's list.
- ``planning``: the due week, and a week's digests into the outbox.
- ``messages``: an outbox row written out as an e-mail (confirmation or digest).
- ``delivery``: what is due sent over SMTP: claims, retries, bounces, crashed senders.
- ``mailer``: ``Mailer``, the parts above wired once for the server and ``ejournal digest``.
- ``schedule``: the background thread of the server that plans and delivers.
"""
