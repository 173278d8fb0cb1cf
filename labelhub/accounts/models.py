from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """A LabelHub user. Roles are per campaign (see ``campaigns.Membership``), not global."""

    class Meta:
        db_table = "accounts_user"
