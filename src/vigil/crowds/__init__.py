"""Crowds without identification: people counts, events with occupancy limits, and zones
where no face is analysed."""
