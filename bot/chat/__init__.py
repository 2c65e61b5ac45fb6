"""The platform-neutral `/digest …` command layer adapters translate to and from."""
