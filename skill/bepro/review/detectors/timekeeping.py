"""Detectors for time handling: durations measured with wall clocks."""
