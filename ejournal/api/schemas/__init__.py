"""Request and response bodies: input schemas (``…In``) are separate from output schemas
(``…Out``)."""
