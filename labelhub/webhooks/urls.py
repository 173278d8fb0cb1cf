from django.urls import path

from labelhub.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("", views.webhook_list, name="list"),
    path("<int:pk>/", views.webhook_detail, name="detail"),
    path("<int:pk>/rotate-secret/", views.webhook_rotate_secret, name="rotate"),
    path("<int:pk>/delete/", views.webhook_delete, name="delete"),
]
