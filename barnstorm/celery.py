"""The Celery application. Tasks live in each app's tasks.py and take ids."""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barnstorm.settings")

app = Celery("barnstorm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Apps may keep a feature's tasks in a module of its own (tasks_<feature>.py).
app.autodiscover_tasks(related_name="tasks_actblue")
app.autodiscover_tasks(related_name="tasks_host")


@app.on_after_configure.connect
def _make_queue_folders(sender, **kwargs):
    # The folder broker (no REDIS_URL) needs its folders before anyone publishes or consumes.
    if sender.conf.broker_url.startswith("filesystem://"):
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            Path(sender.conf.broker_transport_options[key]).mkdir(parents=True, exist_ok=True)
