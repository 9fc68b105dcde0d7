"""The rights of the people filmed: subject access requests, their reports, erasure."""
