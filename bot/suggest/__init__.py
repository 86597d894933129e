"""Suggested links: open tickets, stories and recent Slack reports whose titles resemble a new report."""
