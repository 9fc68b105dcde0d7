"""Pages of the web UI."""
