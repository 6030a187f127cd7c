import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Development: serve Rollbook on 0.0.0.0:PORT with a Celery worker and beat beside it, "
        "on whatever broker the settings name (the filesystem broker under var/ by default)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument("--no-worker", action="store_true", help="Serve only the web app.")

    def handle(self, *args, **options):
        worker = None
        # runserver's autoreloader re-runs this command in a child (RUN_MAIN): start one worker.
        if not options["no_worker"] and os.environ.get("RUN_MAIN") != "true":
            worker = subprocess.Popen(  # noqa: S603
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "-B",
                    "--pool=solo",
                    "--loglevel=INFO",
                    f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
                ],
            )
            self.stdout.write(self.style.SUCCESS(f"Started the worker and beat (pid {worker.pid})"))
        if os.environ.get("RUN_MAIN") != "true":
            self.stdout.write(
                self.style.SUCCESS(
                    f"\nRollbook is at http://demo.{settings.BASE_DOMAIN}:{options['port']}/\n"
                    "Sign in as admin with the password rollbook-demo-2026\n"
                    f"Emails land in http://demo.{settings.BASE_DOMAIN}:{options['port']}/dev/outbox/\n"
                )
            )
        try:
            call_command("runserver", f"0.0.0.0:{options['port']}")
        finally:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=15)
