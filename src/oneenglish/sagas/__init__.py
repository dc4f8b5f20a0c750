"""The mechanism that runs and recovers operations spanning both databases (see runner.py)."""
