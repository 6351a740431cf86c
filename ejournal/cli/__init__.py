"""The ``ejournal`` command line (``main.cli``), one module per group of commands."""
