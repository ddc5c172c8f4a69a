"""The org tree's pages, under /org/ with the ``org`` namespace (see ``views/org.py``)."""

from django.urls import path

from unionaid.members.views import org as views

app_name = "org"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("<int:pk>/", views.unit_detail, name="unit-detail"),
    path("<int:pk>/children/new/", views.unit_create_child, name="unit-create-child"),
    path("<int:pk>/rename/", views.unit_rename, name="unit-rename"),
    path("<int:pk>/move/", views.unit_move, name="unit-move"),
    path("<int:pk>/close/", views.unit_close, name="unit-close"),
]
