"""Celery tasks queued inside a Django transaction are flagged; queued from on_commit, after the
block, or outside any transaction they are not."""

from celery import shared_task
from django.db import transaction


@shared_task
def build_archive(job_id: int) -> None: ...


@shared_task
def send_receipt(order_id: int) -> None: ...


def start_export(job) -> None:
    with transaction.atomic():
        job.status = "collected"
        job.save(update_fields=["status"])
        build_archive.delay(job_id=job.id)  # expect: outbox


@transaction.atomic
def place_order(order) -> None:
    order.save()
    send_receipt.apply_async(kwargs={"order_id": order.id}, countdown=5)  # expect: outbox


def start_export_on_commit(job) -> None:
    with transaction.atomic():
        job.status = "collected"
        job.save(update_fields=["status"])
        transaction.on_commit(lambda: build_archive.delay(job_id=job.id))


def place_order_after(order) -> None:
    with transaction.atomic():
        order.save()
    send_receipt.delay(order.id)


def resend(order_id: int) -> None:
    send_receipt.delay(order_id)
