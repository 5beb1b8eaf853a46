"""Adapters: the only modules that talk to AWS. They turn SDK errors into domain errors."""
