"""Running the bot: settings, logs, metrics, health and the configuration check."""
