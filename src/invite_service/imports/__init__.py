"""Audience import: files and the Parsing Service, run as all-or-nothing import jobs."""
