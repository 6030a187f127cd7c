"""Rollbook project configuration: settings, URL maps, Celery app, WSGI/ASGI."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
