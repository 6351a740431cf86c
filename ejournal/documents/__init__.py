"""Certified printouts (PDF/A via Typst) and the year close that archives them."""
