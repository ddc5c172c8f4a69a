from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from unionaid.accounts.access import ANONYMOUS, access_for
from unionaid.core import memo
from unionaid.org.models import UnionProfile


def _union_name() -> str:
    """Kept under the access stamp (``core.memo``), which the profile's writes change."""
    return memo.kept("org.union_name", lambda: UnionProfile.objects.values_list(
        "name", flat=True).first() or "")


def access(request):
    user = getattr(request, "user", None)
    acc = access_for(user) if user is not None and user.is_authenticated else ANONYMOUS
    # The union's name (first-run set-up) titles every page; read only if a page shows it.
    return {"access": acc, "perms_held": acc.permissions,
            "union_name": SimpleLazyObject(_union_name)}
