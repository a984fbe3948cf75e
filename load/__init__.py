"""`make load`: a locust load test against the production shape (load/__main__.py)."""
