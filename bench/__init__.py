"""Benchmarks: each prints JSON; the latest figures live in BENCHMARKS.md."""
