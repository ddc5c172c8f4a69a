"""/api/v1/auth: who am I, and my own API tokens.

A token is created only from a logged-in browser session (with CSRF), never with another token,
and its clear value is shown once. Tokens stop working when the user is disabled, their last
post ends (``accounts.services``) or their password changes (``User.save``).
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from unionaid.accounts import services
from unionaid.accounts.access import access_for
from unionaid.accounts.api_auth import StaffSessionAuth
from unionaid.accounts.models import ApiToken, DataScope
from unionaid.accounts.permissions import PERMISSIONS
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, InputSchema

router = Router(tags=["auth"])


# -- GET /me ------------------------------------------------------------------------------------

class MeScopeOut(Schema):
    position: str = Field(..., description="岗位（工人本人登录时为空）")
    unit_id: int | None
    scope: str
    scope_label: str
    permissions: list[str]


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    member_id: int | None
    positions: list[str]
    permissions: list[str]
    permission_labels: dict[str, str]
    scopes: list[MeScopeOut]


@router.get("/me", response={200: MeOut, **READ_ERRORS}, summary="当前用户、岗位、权限和数据范围")
def me(request):
    user = request.auth
    access = access_for(user)
    perms = sorted(access.permissions)
    return {
        "id": user.pk,
        "username": user.get_username(),
        "display_name": user.display_name,
        "member_id": user.member_id,
        "positions": list(access.position_labels),
        "permissions": perms,
        "permission_labels": {p: str(PERMISSIONS.get(p, p)) for p in perms},
        "scopes": [
            {
                "position": g.position_label,
                "unit_id": g.unit_id,
                "scope": g.scope,
                "scope_label": str(DataScope(g.scope).label),
                "permissions": sorted(g.permissions),
            }
            for g in access.grants
        ],
    }


# -- POST /tokens -------------------------------------------------------------------------------

class TokenCreateIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=60, description="用途，如“小程序”")


class TokenCreateOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    token: str = Field(..., description="完整令牌，只显示这一次")


@router.post("/tokens", auth=StaffSessionAuth(), response={201: TokenCreateOut, **WRITE_ERRORS},
             summary="为自己创建接口令牌（只能在登录会话中创建）")
def token_create(request, payload: TokenCreateIn):
    token, raw = services.api_token_create(actor=request.auth, name=payload.name)
    return Status(201, {"id": token.pk, "name": token.name, "prefix": token.prefix,
                        "created_at": token.created_at, "token": raw})


# -- GET /tokens --------------------------------------------------------------------------------

class TokenListItemOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    is_active: bool


def _own_tokens(user):
    # A token list is never scoped wider than the caller themself.
    return ApiToken.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")


@router.get("/tokens", response={200: list[TokenListItemOut], **READ_ERRORS},
            summary="我的接口令牌")
def token_list(request):
    tokens = list(_own_tokens(request.auth))
    for token in tokens:
        token.is_active = token.revoked_at is None
    return tokens


# -- DELETE /tokens/{id} ------------------------------------------------------------------------

@router.delete("/tokens/{token_id}", response={204: None, **WRITE_ERRORS}, summary="吊销令牌")
def token_revoke(request, token_id: int):
    services.api_token_revoke(actor=request.auth, token_id=token_id)
    return Status(204, None)
