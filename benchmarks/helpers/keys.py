"""Real encryption keys for the benchmark database, made the way production makes them.

Production configures ``UNIONAID_KEYS`` ("kid:base64key"), ``UNIONAID_ACTIVE_KEY``,
``UNIONAID_INDEX_KEY`` and its own ``SECRET_KEY`` (docs/architecture.md, "Encryption"); keys
derived from ``SECRET_KEY`` (``UNIONAID_DEV_KEYS``) are for a laptop demo. The benchmarks use
random keys of the right sizes, kept in ``<data>/keys-<db>.env`` (git-ignored, with the data they
encrypt), so that every later run (``--reuse``, the served database) reads the same data.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path


def _new() -> dict[str, str]:
    kid = "bench" + secrets.token_hex(2)
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "UNIONAID_CRYPTO_SUITE": "aes",
        "UNIONAID_KEYS": f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}",
        "UNIONAID_ACTIVE_KEY": kid,
        "UNIONAID_INDEX_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "UNIONAID_DEV_KEYS": "0",
    }


def bench_keys(data_dir: Path, db: str, *, fresh: bool = False) -> dict[str, str]:
    """The keys of the ``db`` benchmark database (new ones when ``fresh`` or none yet)."""
    path = Path(data_dir) / f"keys-{db}.env"
    if not fresh:
        if not path.exists():  # a database built before the keys were kept: derived keys
            return {"UNIONAID_DEV_KEYS": "1"}
        pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
        return dict(pairs)
    keys = _new()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in keys.items()))
    path.chmod(0o600)
    return keys


def use_bench_keys() -> None:
    """Put the keys of the benchmark database ``DATABASE_URL`` names into the environment (for
    the what-if scripts, which run on an already loaded database)."""
    data = Path(os.environ.get("BENCH_DATA_DIR", Path(__file__).resolve().parents[1] / "data"))
    db = "sqlite" if os.environ.get("DATABASE_URL", "").startswith("sqlite") else "postgres"
    for key, value in bench_keys(data, db).items():
        os.environ.setdefault(key, value)
