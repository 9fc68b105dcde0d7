"""The vigil command line."""
