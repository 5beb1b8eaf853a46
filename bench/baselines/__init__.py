"""Baseline apps: what a user would write by hand instead of this service."""
