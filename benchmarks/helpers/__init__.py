"""Helpers of ``benchmarks/run.py``; not part of the application."""
