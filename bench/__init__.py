"""Benchmarks: scripts run from the repository root (``python bench/x.py`` or ``python -m bench.x``)
that print their measurements as JSON lines. They may import every package of the project."""
