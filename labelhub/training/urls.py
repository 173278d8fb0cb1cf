from django.urls import path

from labelhub.training import views

app_name = "training"

urlpatterns = [
    path("", views.run_list, name="list"),
    path("start/", views.run_start, name="start"),
    path("<int:pk>/", views.run_detail, name="detail"),
    path("<int:pk>/cancel/", views.run_cancel, name="cancel"),
    path("<int:pk>/resume/", views.run_resume, name="resume"),
    path("<int:pk>/adopt/", views.adopt_variant, name="adopt"),
    path("send-to-labeling/", views.send_to_labeling, name="send-to-labeling"),
]
