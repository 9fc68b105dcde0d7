"""Video that leaves the control room: public broadcast and third-party access, redacted."""
