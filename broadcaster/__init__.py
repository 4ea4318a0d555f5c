"""Broadcaster: one approved outage statement, said verbatim on every channel."""
