"""Vector search over sightings (case-scoped search and movement reports build on it)."""
