"""The reference Integration Service: ``docs/contracts/integration-service.yaml`` on Telethon.

A separate process (``integration-service serve``) that owns users' Telegram sessions and makes the
platform calls the Invite Service asks for. See ``docs/integration-service.md``.
"""
