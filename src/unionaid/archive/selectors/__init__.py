"""Scoped reads: records and configuration (``records``), watch lists and ledgers
(``lists``)."""
