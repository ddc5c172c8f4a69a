from django.urls import path

from unionaid.web import setup_views, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    # First-run set-up (only while no login exists) and the imports that follow it.
    path("setup/", setup_views.setup, name="setup"),
    path("import/org/", setup_views.org_import, name="import-org"),
    path("import/org/template.xlsx", setup_views.org_template, name="import-org-template"),
    path("import/staff/", setup_views.staff_import_page, name="import-staff"),
    path("import/staff/template.xlsx", setup_views.staff_template,
         name="import-staff-template"),
]
