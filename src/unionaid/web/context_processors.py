from __future__ import annotations

from unionaid.accounts.access import ANONYMOUS, access_for


def access(request):
    user = getattr(request, "user", None)
    acc = access_for(user) if user is not None and user.is_authenticated else ANONYMOUS
    return {"access": acc, "perms_held": acc.permissions}
