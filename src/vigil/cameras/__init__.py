"""Cameras: the registry of cameras, sites and regions, and their stream URLs."""
