"""Settings for the test suite: the project's settings, plus test-only apps (a toy domain that
registers an approval subject and drives the engine end to end, as any domain would)."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "unionaid.approvals.tests.toyapp"]

# The suite runs without DEBUG and without real keys: keys derived from SECRET_KEY, explicitly.
UNIONAID_DEV_KEYS = True
