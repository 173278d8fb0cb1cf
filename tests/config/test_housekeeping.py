from datetime import timedelta

import pytest
from channels_postgres.models import GroupChannel, Message
from django.utils import timezone

from labelhub.config.tasks import purge_channel_messages

pytestmark = pytest.mark.django_db


def test_it_purges_expired_channel_layer_rows_only():
    past, future = timezone.now() - timedelta(minutes=5), timezone.now() + timedelta(minutes=5)
    Message.objects.create(channel="a", message=b"x", expire=past)
    Message.objects.create(channel="b", message=b"y", expire=future)
    GroupChannel.objects.create(group_key="g", channel="a", expire=past)
    assert purge_channel_messages(timestamp=0) == 2
    assert list(Message.objects.values_list("channel", flat=True)) == ["b"]
    assert GroupChannel.objects.count() == 0
