"""An ended import's rejected.csv is served while its rows are kept, then a 410 (never an empty file that
would say nothing was rejected); a running import's report is always served."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import update

from invite_service.db import Database
from invite_service.imports import repository as import_repo
from invite_service.kit.clock import utcnow
from invite_service.kit.tabular.mapping import Rejection
from invite_service.models import ImportJob
from invite_service.models.enums import ImportStatus
from tests.retention.conftest import Api


async def make_job(db: Database, user: str, status: ImportStatus, ended: datetime | None) -> uuid.UUID:
    async with db.session() as session:
        job = await import_repo.create_job(
            session, user_id=user, source="file", filename="a.csv", options={"columns": ["username"]}
        )
        await import_repo.add_rejections(session, job.id, [Rejection(2, "invalid", "bad", {"username": "x"})])
        await session.execute(
            update(ImportJob)
            .where(ImportJob.id == job.id)
            .values(
                status=status.value, finished_at=ended, updated_at=ended or utcnow() - timedelta(days=200)
            )
        )
        return job.id


async def test_the_report_is_served_for_89_days_then_gone(api: Api) -> None:
    client, db, auth, user = api
    recent = await make_job(db, user, ImportStatus.COMPLETED, utcnow() - timedelta(days=89))
    old = await make_job(db, user, ImportStatus.COMPLETED, utcnow() - timedelta(days=91))
    running = await make_job(db, user, ImportStatus.RUNNING, None)

    for job in (recent, running):
        ok = await client.get(f"/api/v1/import/jobs/{job}/rejected.csv", headers=auth)
        assert ok.status_code == 200
        assert "invalid" in ok.text
    gone = await client.get(f"/api/v1/import/jobs/{old}/rejected.csv", headers=auth)
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["code"] == "import_rejections_expired"
    # Another user's job is still a 404, expired or not.
    stranger = await make_job(db, "someone-else", ImportStatus.COMPLETED, utcnow() - timedelta(days=91))
    assert (await client.get(f"/api/v1/import/jobs/{stranger}/rejected.csv", headers=auth)).status_code == 404
