"""Getting digests to channels on time: sources, schedules, the delivery engine, the runner."""
