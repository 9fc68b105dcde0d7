"""Users, roles, tokens, browser sessions and permission checks."""
