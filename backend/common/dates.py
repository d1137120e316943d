"""Whole-day bounds for date filters, in the service's time zone (settings.TIME_ZONE)."""

import datetime

from django.utils import timezone


def day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def day_end(day: datetime.date) -> datetime.datetime:
    """The first instant after `day`: filter with `< day_end(day)` to include the whole day."""
    return day_start(day + datetime.timedelta(days=1))
