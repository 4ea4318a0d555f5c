"""Stakeholder audiences: named internal lists (leadership, the regulator, first responders), each of
people with an email address and/or a phone number, who get their own rendition of every approved
version (`templates/stakeholder/`, more detail than the public words) by email and SMS, through the
engine (`channels/stakeholder.py`): logged, retried, reconciled, in the consistency audit."""
