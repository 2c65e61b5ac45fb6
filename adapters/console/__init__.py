"""The console adapter: a local "channel" in the terminal, the bot with no platform at all."""
