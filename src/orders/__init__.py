"""Orders service: one FastAPI app for Lambda (Mangum) and Fargate (uvicorn)."""

__version__ = "0.1.0"
