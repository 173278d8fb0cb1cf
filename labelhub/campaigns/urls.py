from django.urls import path

from labelhub.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("<slug:slug>/", views.campaign_detail, name="detail"),
    path("<slug:slug>/import/", views.campaign_import, name="import"),
    path("<slug:slug>/imports/<int:pk>/", views.import_detail, name="import_detail"),
]
