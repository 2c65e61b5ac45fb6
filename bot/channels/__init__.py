"""Use cases on one channel (administration, curation, its memory), with explicit collaborators."""
