"""Retention: how long each growing table keeps its rows, and the periodic job that deletes the rest."""
