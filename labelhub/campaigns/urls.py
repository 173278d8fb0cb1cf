from django.urls import path

from labelhub.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("<slug:slug>/", views.campaign_detail, name="detail"),
    path("<slug:slug>/settings/", views.campaign_edit, name="edit"),
    path("<slug:slug>/archive/", views.campaign_archive, name="archive"),
    path("<slug:slug>/guidelines/", views.guidelines, name="guidelines"),
    path("<slug:slug>/guidelines/edit/", views.guidelines_edit, name="guidelines_edit"),
    path("<slug:slug>/import/", views.campaign_import, name="import"),
    path("<slug:slug>/imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("<slug:slug>/documents/", views.documents, name="documents"),
]
