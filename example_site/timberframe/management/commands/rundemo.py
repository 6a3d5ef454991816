"""One command for the whole demo: database, content, admin login, task worker, web server."""

import secrets
import signal
import subprocess
import sys

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Migrate, load the demo content, collect static files, reset the 'admin' password, "
        "then run a django-q2 worker and the development server."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start 'manage.py qcluster' (queued tasks then wait for a worker).",
        )

    def handle(self, *args, addrport, no_worker, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo_content", stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0)
        password = self.reset_admin_password()
        host = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(
            self.style.SUCCESS(f"Admin: http://{host}/admin/  login: admin  password: {password}")
        )
        worker = None if no_worker else self.start_worker()
        # SIGTERM (docker stop, a supervisor, timeout) would end Python without running
        # the finally clause and leave the worker orphaned; make it an ordinary exit.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            if worker is not None:
                self.stop_worker(worker)

    def reset_admin_password(self):
        """A fresh random password on every run: the demo never ships a known credential."""
        password = secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(
            username="admin", defaults={"email": "admin@timberandsun.example"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        return password

    def start_worker(self):
        # A child process rather than a thread: qcluster forks its own workers and
        # installs signal handlers, which only work in a main thread.
        self.stdout.write("Starting the django-q2 worker (manage.py qcluster)...")
        return subprocess.Popen([sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"])

    def stop_worker(self, worker):
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
