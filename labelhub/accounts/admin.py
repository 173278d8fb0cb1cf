from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from labelhub.accounts.models import User


@admin.register(User)
class LabelHubUserAdmin(UserAdmin):
    search_fields = ["username", "email", "first_name", "last_name"]
