"""Approving the exact words: approve and reject in the app with the rules every approval is checked
by (`decisions`: four eyes, sealed approvals, the policy by impact), and approval from a phone by an
emailed link or a texted code (`by_phone`)."""
