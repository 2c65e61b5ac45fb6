"""The web console for admins: server-rendered pages on the bot's own aiohttp server."""
