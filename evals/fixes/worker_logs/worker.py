"""A queue worker that reports each job."""

import logging

logger = logging.getLogger(__name__)


def handle(job: dict) -> str:
    logger.info("job {id} from {source}".format(id=job["id"], source=job.get("source", "?")))
    status = "ok" if job.get("payload") else "empty"
    logger.info("job " + str(job["id"]) + " is " + status)
    print("handled", job["id"])
    return status
