"""Deploy checks (``manage.py check --deploy``) for unionaid's own settings."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_dev_keys(app_configs=None, **kwargs):
    """Field encryption must not run on keys derived from SECRET_KEY outside a laptop demo, and
    must not run at all without keys (the app refuses to start then: ``crypto.require_keys``)."""
    keys_missing = not settings.UNIONAID_KEYS or not settings.UNIONAID_INDEX_KEY
    if not settings.UNIONAID_DEV_KEYS:
        if keys_missing:
            return [Error(
                "UNIONAID_KEYS or UNIONAID_INDEX_KEY is not set and development keys are off: "
                "the app will refuse to start.",
                hint="Set UNIONAID_KEYS, UNIONAID_ACTIVE_KEY and UNIONAID_INDEX_KEY (or their "
                     "*_FILE variants).",
                id="unionaid.E001",
            )]
        return []
    if settings.DEBUG:
        return []
    if keys_missing:
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


@register(Tags.security, deploy=True)
def check_data_folders(app_configs=None, **kwargs):
    """Installed from the wheelhouse, the default data folder (UNIONAID_VAR_DIR unset) would be
    inside the installed program: uploads lost at the next upgrade, static files nginx can't
    find, and a read-only folder under the services' sandbox (docs/deploy.md)."""
    installed = {Path(p).resolve() for p in (sysconfig.get_paths()["purelib"],
                                             sysconfig.get_paths()["platlib"])}
    inside = [
        name for name in ("STATIC_ROOT", "PRIVATE_MEDIA_ROOT")
        if any(root == folder or root in folder.parents
               for folder in [Path(getattr(settings, name)).resolve()] for root in installed)
    ]
    if not inside:
        return []
    return [Warning(
        f"{' and '.join(inside)} lie inside the installed program ({sorted(installed)[0]}).",
        hint="Set UNIONAID_VAR_DIR, PRIVATE_MEDIA_ROOT and STATIC_ROOT (deploy/unionaid.env.example).",
        id="unionaid.W003",
    )]
