"""The suppression (opt-out) list: checked at import and again right before every send."""
