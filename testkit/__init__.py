"""Helpers the tests and the bench share: nothing here ships or is imported by the service."""
