"""The HTTP routes, one module per part of the regulation they serve."""
