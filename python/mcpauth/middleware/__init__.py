"""Bearer-token middleware."""
