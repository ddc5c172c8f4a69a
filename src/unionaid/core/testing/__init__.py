"""Helpers for tests (no test modules here): imported by test code only."""
