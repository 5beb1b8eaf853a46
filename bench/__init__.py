"""Benchmarks that print ratios: every figure is ours vs a baseline measured in the same run."""
