"""ejournal: the verifiable electronic class journal and diary of general-education schools.

The package's rooms, and the one direction their imports flow, are drawn in
``docs/architecture.md``; ``pyproject.toml`` holds the same rules as import contracts.
"""
