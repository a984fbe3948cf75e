"""What a request or a job works with: the ``Runtime`` (settings, database, clock, limiter, locks, progress
bus, adapters, job queue) and the job-queue interface. Built by the composition root, ``runtime.py``."""
