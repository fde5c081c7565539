"""What operators see of the running server: structured logs and Prometheus metrics."""
