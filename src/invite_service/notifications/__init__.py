"""Notifications: Standard Webhooks endpoints, apprise channels and the in-browser feed, fed by one
transactional outbox (``service.emit``)."""
