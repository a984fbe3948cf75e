"""Events the Integration Service posts to us: replies to our accounts (replied outcome, opt-out)."""
