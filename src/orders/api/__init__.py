"""HTTP interface: routers, request/response models, problems, middleware."""
