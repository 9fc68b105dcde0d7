"""Camera simulator: people from a labelled photo folder walk through scenes served over RTSP."""
