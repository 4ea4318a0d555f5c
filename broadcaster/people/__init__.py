"""Who uses Broadcaster and what they may do: users and their roles (`users`), passwords, sessions,
API tokens and the one permission check (`auth`), and the audit trail (`audit_trail`)."""
