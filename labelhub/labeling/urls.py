from django.urls import path

from labelhub.labeling import views

app_name = "labeling"

urlpatterns = [
    path("", views.home, name="home"),
    path("work/", views.label, name="label"),
]
