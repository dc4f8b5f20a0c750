"""Benchmarks: the API under load next to the same database work done directly (the floor).

`make bench` (or `python -m bench --help`); how to read the results: bench/README.md.
"""
