"""Faces: image input, detection, alignment, 128-d descriptors, quality and comparison."""
