from celery import shared_task


@shared_task
def ping(path: str) -> str:
    """Writes 'pong' to `path`: lets operators and tests see that a worker is consuming."""
    with open(path, "w") as f:
        f.write("pong")
    return "pong"
