"""Third parties: organisations with keys scoped to cameras, a window and a quota; their
redacted, watermarked video; and the metering of every second of it."""
