"""Housekeeping jobs for the job worker (``python manage.py worker``)."""

import datetime
import logging

from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)

#: A worker that sent no heartbeat for this long is taken for dead (it beats every 10 s).
STALLED_AFTER_SECONDS = 120


@app.periodic(cron="* * * * *")
@app.task(queue="housekeeping", pass_context=True)
async def retry_stalled_jobs(context, timestamp: int):
    """A worker killed mid-job leaves its job in ``doing`` for ever; fail or retry such jobs."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER_SECONDS)
    for job in stalled:
        logger.warning("job %s (%s) stalled: its worker stopped sending heartbeats; retrying", job.id, job.task_name)
        await app.job_manager.retry_job_by_id_async(job.id, retry_at=datetime.datetime.now(datetime.UTC))
    return len(stalled)


@app.periodic(cron="*/10 * * * *")
@app.task(queue="housekeeping")
def purge_channel_messages(timestamp: int) -> int:
    """The PostgreSQL channel layer keeps messages and group memberships in tables; drop the
    expired ones so they do not grow for ever (a no-op with the Redis layer)."""
    from channels_postgres.models import GroupChannel, Message
    from django.utils import timezone

    now = timezone.now()
    messages, _ = Message.objects.filter(expire__lt=now).delete()
    groups, _ = GroupChannel.objects.filter(expire__lt=now).delete()
    return messages + groups
