from celery import shared_task

from barnstorm.field import services


@shared_task
def contacts_expire_leases() -> int:
    """Every minute: contacts whose volunteer went quiet go back to the pool."""
    return services.contacts_expire_leases()
