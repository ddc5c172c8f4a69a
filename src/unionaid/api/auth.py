"""The API's authentication classes, for the router (``api/api.py``). They are defined in
``accounts.api_auth``, beside the rights they check."""

from unionaid.accounts.api_auth import AUTH, StaffSessionAuth, TokenAuth

__all__ = ["AUTH", "StaffSessionAuth", "TokenAuth"]
