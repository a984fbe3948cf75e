"""A task's status, statistics, report, execution log and live events; the service's gauges."""
