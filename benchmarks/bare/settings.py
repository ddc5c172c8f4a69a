"""The product's settings with a bare URLconf: the same middleware, database and server, no
unionaid view (``benchmarks/bare/urls.py``). Benchmark-only."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bare.urls"
