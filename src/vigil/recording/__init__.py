"""Recording: fMP4 segments on disk, their index, retention, playback and live fragments."""
