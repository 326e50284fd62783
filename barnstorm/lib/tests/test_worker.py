"""A real Celery worker process consumes a task queued by Barnstorm: Redis when REDIS_URL is set
(as in CI on PostgreSQL), otherwise the folder broker that the demo uses."""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings


def test_a_worker_process_runs_a_queued_task(tmp_path):
    env = {**os.environ, "SECRET_KEY": "x", "VAR_DIR": str(tmp_path), "TASKS_EAGER": "False"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if settings.REDIS_URL:
        env["REDIS_URL"] = settings.REDIS_URL
    barnstorm = [sys.executable, "-m", "barnstorm.manage"]
    worker = subprocess.Popen(
        [*barnstorm, "worker", "--concurrency", "1", "--loglevel", "WARNING"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    out = tmp_path / "pong.txt"
    try:
        subprocess.run(
            [*barnstorm, "shell", "-c", f"from barnstorm.lib.tasks import ping; ping.delay({str(out)!r})"],
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert Path(out).read_text() == "pong"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
