"""Who hears from Broadcaster: subscribers (`subscribers`, `csv_import`), the public sign-up with its
double opt-in (`signup`), which updates each channel's recipients get (`notify_rules`), unsubscribe
links (`unsubscribe`) and the follow-up to callers who asked for a call-back (`followup`)."""
