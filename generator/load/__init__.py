"""Load: read the project from disk (the only reads), positioned YAML, CSV rosters, image inspection."""
