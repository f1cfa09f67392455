"""bepro: principal-level backend engineering guidance for Python, as a skill pack and a CLI."""

__version__ = "0.1.0"
