"""The HTTP API for CRMs and imports, authenticated by API key."""
