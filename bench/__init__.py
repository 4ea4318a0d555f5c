"""Benchmarks: ratios against peers in one run (see bench/README.md)."""
