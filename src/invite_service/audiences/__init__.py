"""Audiences (named lists of contacts) and contacts: the people a user knows, per platform."""
