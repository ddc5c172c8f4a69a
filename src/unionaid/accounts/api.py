"""/api/v1/auth: the app login and logout, who am I, and my own API tokens.

A token is created only from a logged-in browser session (with CSRF), never with another token,
and its clear value is shown once. Tokens stop working when the user is disabled, their last
post ends (``accounts.services``) or their password changes (``User.save``).
"""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from unionaid.accounts import app_login, selectors, services
from unionaid.accounts.access import access_for
from unionaid.accounts.api_auth import StaffSessionAuth, TokenAuth
from unionaid.accounts.models import DataScope
from unionaid.accounts.permissions import PERMISSIONS
from unionaid.core.api.schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut, InputSchema

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
    expires_at: dt.datetime | None = Field(None, description="有效期至（一年之内）；省略为长期有效")


class TokenCreateOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    token: str = Field(..., description="完整令牌，只显示这一次")


@router.post("/tokens", auth=StaffSessionAuth(), response={201: TokenCreateOut, **WRITE_ERRORS},
             summary="为自己创建接口令牌（只能在登录会话中创建）")
def token_create(request, payload: TokenCreateIn):
    token, raw = services.api_token_create(actor=request.auth, name=payload.name,
                                           expires_at=payload.expires_at)
    return Status(201, {"id": token.pk, "name": token.name, "prefix": token.prefix,
                        "created_at": token.created_at, "expires_at": token.expires_at,
                        "token": raw})


# -- GET /tokens --------------------------------------------------------------------------------

class TokenListItemOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None
    expires_at: dt.datetime | None
    kind: str = Field(..., description="personal（个人令牌）或 app_login（应用登录）")
    is_active: bool


@router.get("/tokens", response={200: list[TokenListItemOut], **READ_ERRORS},
            summary="我的接口令牌")
def token_list(request):
    # A token list is never scoped wider than the caller themself.
    return list(selectors.tokens_of(user=request.auth))


# -- DELETE /tokens/{id} ------------------------------------------------------------------------

@router.delete("/tokens/{token_id}", response={204: None, **WRITE_ERRORS}, summary="吊销令牌")
def token_revoke(request, token_id: int):
    services.api_token_revoke(actor=request.auth, token_id=token_id)
    return Status(204, None)


# -- POST /login, POST /logout ------------------------------------------------------------------

class LoginIn(InputSchema):
    username: str = Field(..., max_length=150)
    password: str = Field(..., max_length=256)
    otp: str = Field("", max_length=8, description="已启用双因素认证时必填：6位动态验证码")
    app_name: str = Field("", max_length=60, description="应用名称，如“小程序”（显示在令牌列表中）")


class LoginOut(Schema):
    token: str = Field(..., description="Bearer 令牌，只返回这一次；请求头 Authorization: Bearer …")
    token_id: int
    expires_at: dt.datetime
    user_id: int
    display_name: str


@router.post("/login", auth=None,
             response={200: LoginOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut,
                       429: ErrorOut},
             summary="应用登录（小程序等，不经浏览器会话）：用户名、密码（及动态验证码）换取短期令牌")
def login(request, payload: LoginIn):
    token, raw = app_login.app_login(request=request, username=payload.username,
                                     password=payload.password, otp=payload.otp,
                                     app_name=payload.app_name)
    return {"token": raw, "token_id": token.pk, "expires_at": token.expires_at,
            "user_id": token.user_id, "display_name": token.user.display_name}


@router.post("/logout", auth=TokenAuth(), response={204: None, 401: ErrorOut},
             summary="应用退出：吊销本次请求所用的令牌")
def logout(request):
    services.api_token_revoke(actor=request.auth, token_id=request.api_token.pk)
    return Status(204, None)
