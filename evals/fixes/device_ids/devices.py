"""Registers devices under a generated id."""

from uuid import UUID, uuid1

REGISTRY: dict[str, str] = {}


def register(name: str) -> str:
    device_id = str(uuid1())
    REGISTRY[device_id] = name
    return device_id


def parse(device_id: str) -> UUID:
    return UUID(device_id)
