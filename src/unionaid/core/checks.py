"""Deploy checks (``manage.py check --deploy``) for unionaid's own settings."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_dev_keys(app_configs=None, **kwargs):
    """Field encryption must not run on keys derived from SECRET_KEY outside a laptop demo."""
    if settings.DEBUG or not settings.UNIONAID_DEV_KEYS:
        return []
    if not settings.UNIONAID_KEYS or not settings.UNIONAID_INDEX_KEY:
        return [Warning(
            "Personal data is encrypted with development keys derived from SECRET_KEY "
            "(UNIONAID_DEV_KEYS is on and UNIONAID_KEYS or UNIONAID_INDEX_KEY is not set).",
            hint="Set UNIONAID_KEYS, UNIONAID_ACTIVE_KEY and UNIONAID_INDEX_KEY (or their "
                 "*_FILE variants) and UNIONAID_DEV_KEYS=0.",
            id="unionaid.W001",
        )]
    return [Warning(
        "UNIONAID_DEV_KEYS is on: a missing key would silently fall back to development keys.",
        hint="Set UNIONAID_DEV_KEYS=0 in production.",
        id="unionaid.W002",
    )]
