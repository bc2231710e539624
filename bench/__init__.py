"""Reproducible benchmarks (not tests): see bench/README.md."""
