"""The service's URLs plus two plain Django views that fail, for the last-resort error handler."""

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler500, urlpatterns


def database_gone(request: HttpRequest) -> HttpResponse:
    raise OperationalError("terminating connection due to administrator command")


def bug(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected bug")


urlpatterns = [path("failing/database/", database_gone), path("failing/bug/", bug), *urlpatterns]
__all__ = ["handler500", "urlpatterns"]
