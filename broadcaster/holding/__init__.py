"""Holding statements: approved in calm times, kept ready, switched on in an outage with one click,
`HOLD <number> <pin>` by SMS (`holding_statements`), or a standing emailed link with a PIN
(`emailed_links`)."""
