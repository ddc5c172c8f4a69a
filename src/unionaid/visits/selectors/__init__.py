"""Scoped reads: campaigns and pairings (``campaigns``), visits, profiles, follow-ups
(``records``)."""
