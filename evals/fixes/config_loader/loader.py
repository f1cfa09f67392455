"""Loads feature flags from YAML and limits from a literal."""

import yaml


def flags(text: str) -> dict:
    return yaml.load(text, yaml.UnsafeLoader)


def all_flags(text: str) -> list:
    return list(yaml.load_all(text, yaml.FullLoader))


def limits(text: str) -> dict:
    try:
        value = eval(text)
    except:
        value = {}
    return dict(value)
