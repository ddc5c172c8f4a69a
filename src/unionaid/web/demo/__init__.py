"""The demo union (``manage.py demo``): a fictitious railway bureau's union with synthetic
members and one login per persona. Nothing here is imported by the application itself."""

from unionaid.web.demo.builder import DEFAULT_MEMBERS, DEFAULT_SEED, DemoNotEmptyError, build_demo
from unionaid.web.demo.staff import DEMO_PASSWORD, PERSONAS

__all__ = [
    "DEFAULT_MEMBERS",
    "DEFAULT_SEED",
    "DEMO_PASSWORD",
    "PERSONAS",
    "DemoNotEmptyError",
    "build_demo",
]
