"""Template helpers for the back office: Bootstrap widgets and masking of loose values."""

from __future__ import annotations

from django import forms, template

from unionaid.core import crypto, masking

register = template.Library()


@register.filter
def bs_widget(bound_field):
    """Render a bound field's widget with Bootstrap classes (and is-invalid on errors)."""
    widget = bound_field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select form-select-lg"
    else:
        css = "form-control form-control-lg"
    if bound_field.errors:
        css += " is-invalid"
    attrs = {"class": css}
    if bound_field.help_text:
        attrs["aria-describedby"] = f"{bound_field.auto_id}_help"
    return bound_field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(bound_field) -> bool:
    return isinstance(bound_field.field.widget, forms.CheckboxInput)


@register.filter
def mask_id(value) -> str:
    return masking.mask_id_number(value)


@register.simple_tag(takes_context=True)
def return_path(context) -> str:
    """The current path and query for a form's ``next`` (the language switcher), without any
    query value that looks like an ID number, phone or account: those never travel in URLs."""
    request = context.get("request")
    if request is None:
        return "/"
    return masking.without_identifiers(request.get_full_path(), nested=())


@register.simple_tag(takes_context=True)
def device_vault_secret(context) -> str:
    """The signed-in user's device-vault secret (core.crypto.device_vault_secret), "" for
    anyone else: only that user's own pages carry it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    request.device_vault_secret_sent = True  # core.middleware: the page is sent no-store
    return crypto.device_vault_secret(user.pk)
