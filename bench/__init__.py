"""Benchmarks of SIGAP: `make bench` runs ``python -m bench.run`` (see bench/run.py)."""
