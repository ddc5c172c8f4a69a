from django.urls import path

from unionaid.portal import activation_views as views

app_name = "activation"
urlpatterns = [
    path("activate/", views.activate, name="start"),
    path("activate/code/", views.activate_code, name="code"),
    path("activate/password/", views.activate_password, name="password"),
    path("activate/printed/", views.activate_printed, name="printed"),
    path("code/", views.code_login, name="code-login"),
    path("code/check/", views.code_login_check, name="code-login-check"),
    path("print/", views.print_units, name="print-units"),
    path("print/<int:unit_pk>/", views.print_sheet, name="print-sheet"),
    path("links/", views.login_links, name="links"),
]
