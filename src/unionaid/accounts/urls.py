from django.urls import path
from django.views.generic import RedirectView

from unionaid.accounts import admin_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("otp/", views.otp_verify, name="otp-verify"),
    path("otp/setup/", views.otp_setup, name="otp-setup"),
    path("security/", views.security, name="security"),
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("tokens/<int:pk>/revoke/", views.api_token_revoke, name="api-token-revoke"),
    path("password/first/", views.password_first, name="password-first"),
    # Security admin (安全管理员)
    path("admin/", RedirectView.as_view(pattern_name="accounts:admin-users"), name="admin"),
    path("admin/users/", admin_views.user_list, name="admin-users"),
    path("admin/users/new/", admin_views.user_create, name="admin-user-create"),
    path("admin/users/<int:pk>/", admin_views.user_detail, name="admin-user-detail"),
    path("admin/users/<int:pk>/active/", admin_views.user_set_active, name="admin-user-active"),
    path("admin/users/<int:pk>/otp-reset/", admin_views.user_otp_reset,
         name="admin-user-otp-reset"),
    path("admin/tokens/", admin_views.token_list, name="admin-tokens"),
    path("admin/tokens/<int:pk>/revoke/", admin_views.token_revoke, name="admin-token-revoke"),
    path("admin/roles/", admin_views.role_list, name="admin-roles"),
    path("admin/roles/new/", admin_views.role_edit, name="admin-role-create"),
    path("admin/roles/<int:pk>/", admin_views.role_edit, name="admin-role-edit"),
    path("admin/positions/", admin_views.position_list, name="admin-positions"),
    path("admin/assignments/", admin_views.assignment_list, name="admin-assignments"),
    path("admin/assignments/<int:pk>/end/", admin_views.assignment_end,
         name="admin-assignment-end"),
    path("admin/assignments/<int:pk>/move/", admin_views.assignment_move,
         name="admin-assignment-move"),
]
