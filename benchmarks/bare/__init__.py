"""A bare Django site on the product's database, for the serve suite's anchors only (never part
of the product: its URLconf is not in config/urls.py)."""
