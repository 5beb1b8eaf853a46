"""Orders service: one FastAPI app for Lambda (Mangum) and Fargate (granian)."""

__version__ = "0.1.0"
