from django.urls import path

from labelhub.feedback import views

app_name = "feedback"

urlpatterns = [
    path("<slug:slug>/snapshots/", views.snapshots, name="snapshots"),
    path("<slug:slug>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("<slug:slug>/leaderboard/promote/", views.promote, name="promote"),
    path("<slug:slug>/quality/", views.quality, name="quality"),
    path("<slug:slug>/dashboard/", views.dashboard, name="dashboard"),
    path("<slug:slug>/review/", views.review, name="review"),
    path("<slug:slug>/disagreements/", views.disagreements, name="disagreements"),
]
