"""Reads deployment settings from YAML files."""

import yaml


def read(path: str) -> dict:
    with open(path, encoding="utf-8") as source:
        return yaml.load(source, Loader=yaml.UnsafeLoader)


def read_all(text: str) -> list[dict]:
    return list(yaml.load_all(text, Loader=yaml.Loader))
