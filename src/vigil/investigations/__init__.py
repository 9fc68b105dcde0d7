"""Investigations: cases approved by a second person, search by photo inside them, reports."""
