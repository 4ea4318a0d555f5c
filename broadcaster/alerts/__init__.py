"""Alerts in: monitoring opens a draft, people decide what is said.

A source (`sources`) is a monitoring system allowed to post to `/webhooks/alerts/NAME`, each kind with
its own proof and payload: Alertmanager's webhook v4 and Grafana's webhook contact point with a bearer
token (`alertmanager`, `grafana`), PagerDuty v3 webhooks signed with `X-PagerDuty-Signature`
(`pagerduty`), and any other system posting JSON signed per Standard Webhooks (`generic`). Each turns a
request into a `incoming.Notification`. Rules (`rules`) map labels to components, impact and a statement
template (`broadcaster.playbooks`). `service.receive` groups alerts by the source's key (groupKey,
PagerDuty's incident id), opens one **draft** incident per rule while it fires, drafts its first
statement from the template and tells the rule's people through the engine (`paging`); when every group
has resolved, it proposes a resolved draft. Nothing is published by it. Only a rule that names a
pre-approved holding statement and a wait may switch that on when nobody has answered (`holding_switch`).
"""
