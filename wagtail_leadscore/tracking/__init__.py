"""Visitor tracking: the signed visitor cookie, filters, page views and the JS beacon."""
