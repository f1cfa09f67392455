"""Plain settings files load to the same values."""

import tempfile
from pathlib import Path

import settings


def check() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "app.yaml"
        path.write_text("replicas: 3\nregions: [eu, us]\n", encoding="utf-8")
        assert settings.read(str(path)) == {"replicas": 3, "regions": ["eu", "us"]}
    assert settings.read_all("a: 1\n---\nb: [1, 2]\n") == [{"a": 1}, {"b": [1, 2]}]


if __name__ == "__main__":
    check()
