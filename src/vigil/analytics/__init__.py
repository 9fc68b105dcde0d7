"""Face analytics on video: sampled decoding, motion gate, tracking, sightings."""
