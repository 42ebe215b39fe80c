"""Investigations: cases, review, candidate series, deconfliction and the report."""
