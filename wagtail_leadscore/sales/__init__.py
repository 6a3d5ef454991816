"""The sales handoff: an alert with everything known about a new lead, sent to its owner
(or the sales team), with signed links to accept the lead or send it back to nurturing."""
