"""Each store's schema as ordered, versioned, idempotent steps, applied at start."""
