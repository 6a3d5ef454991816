"""Personal data: what the plugin holds about a person, handed over on request."""
