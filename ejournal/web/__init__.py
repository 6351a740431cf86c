"""The web pages (Russian, server-rendered) on the same application as the API.

``site.create_site`` is the API's application with the pages, their static files and the
browser's session cookie added. A page reads and writes through the same checks as the API's
routes (``api.policy``, the commands, the access log); it only renders what they return."""
