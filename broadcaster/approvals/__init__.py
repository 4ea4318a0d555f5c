"""Approving the exact words: approve and reject in the app with the rules every approval is checked
by (`decisions`: four eyes, sealed approvals, the policy by impact), approval from a phone by an
emailed link or a texted code (`by_phone`), and from Slack: a DM with buttons (`slack_messages`) whose
signed clicks go through the same rules (`by_slack`)."""
