"""The harness itself: the server answers, a token authenticates, the probe and sampler measure."""

from __future__ import annotations

from tests.security.server import HealthProbe, RssSampler, Server


def test_server_answers_and_authenticates(server: Server) -> None:
    with server.client() as c, HealthProbe(server.base_url) as probe, RssSampler(server.pid) as rss:
        assert c.get("/api/v1/tasks").status_code == 401
        assert c.get("/api/v1/tasks", headers=server.headers()).status_code == 200
        while len(probe.latencies) < 3:
            probe._stop.wait(0.05)
    assert probe.failures == 0
    assert rss.peak >= rss.start > 0
