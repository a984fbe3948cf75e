"""The production image (deploy/Dockerfile) and the compose stack, checked without a Docker engine (none runs
on these machines).

The image's Python stages are replayed with the same tools: a wheel of the package with the built UI inside,
installed from the lock into a fresh virtualenv, migrated and started in the production profile from outside
the repository. The recipe and the compose file are read and checked against the code they run, so a
renamed setting, command or build path breaks here rather than in someone's deployment.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from invite_service.auth.jwt import mint_token
from invite_service.cli import build_parser
from invite_service.config import Settings
from tests.conftest import free_port, fresh_postgres, require_tool

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UV = ROOT / ".tools" / "bin" / "uv"
SECRET = "image-test-secret-" + "x" * 32
IMAGE = "invite-service:latest"


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}{done.stderr[-2000:]}"
    return done.stdout


@pytest.mark.slow
def test_the_wheel_installed_from_the_lock_migrates_and_serves_the_api_and_the_ui(tmp_path: Path) -> None:
    assert (ROOT / "src/invite_service/ui/index.html").exists(), (
        "build the UI first (make ui; make test does)"
    )
    assert UV.exists(), "make install bootstraps uv into .tools/"
    run(UV, "build", "--wheel", "-o", tmp_path / "dist", cwd=ROOT)
    [wheel] = (tmp_path / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "invite_service/ui/index.html",  # git-ignored, so included on purpose (hatch artifacts)
        "invite_service/limits/acquire.lua",
        "invite_service/migrations/versions/2026_11_26_initial_schema.py",
    ):
        assert needed in names, needed
    # As the image's build stage: the locked runtime dependencies (no dev group), then the package.
    venv = tmp_path / "venv"
    run(UV, "venv", "-q", venv, "--python", "3.11", cwd=ROOT)
    run(UV, "export", "-q", "--frozen", "--no-dev", "--no-emit-project", "-o", tmp_path / "req.txt", cwd=ROOT)
    run(
        UV,
        "pip",
        "install",
        "-q",
        "--python",
        venv / "bin/python",
        "-r",
        tmp_path / "req.txt",
        wheel,
        cwd=ROOT,
    )
    cli = venv / "bin" / "invite-service"
    work = tmp_path / "app"  # like the image's /app: nothing of the repository around
    work.mkdir()
    with fresh_postgres("invite_image", migrated=False) as url:
        env = {
            "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
            "INVITE_PROFILE": "production",
            "INVITE_DATABASE_URL": url,
            "INVITE_JWT_SECRET": SECRET,
            "INVITE_INTEGRATION_TOKEN_SECRET": SECRET,
            # No Integration or Parsing Service here: production starts on the simulators only when told to.
            "INVITE_ALLOW_SANDBOX": "true",
            "INVITE_LOG_LEVEL": "WARNING",
        }
        run(cli, "migrate", cwd=work, env=env)
        port = free_port()
        log = (tmp_path / "serve.log").open("w")
        proc = subprocess.Popen(
            [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=work,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            else:
                pytest.fail(
                    f"the installed service did not start: {(tmp_path / 'serve.log').read_text()[-2000:]}"
                )
            page = httpx.get(f"{base}/tasks", timeout=5)  # a client-side route: the SPA's index.html
            assert page.status_code == 200 and '<div id="root">' in page.text
            assert httpx.get(f"{base}/api/v1/tasks", timeout=5).status_code == 401
            token = mint_token("image-user", Settings(jwt_secret=SECRET))
            tasks = httpx.get(f"{base}/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}, timeout=5)
            assert tasks.status_code == 200, tasks.text  # the migrated schema answers
            assert tasks.json()["items"] == []
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())  # resolves the << merge keys
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_real_commands_with_real_settings() -> None:
    services: dict[str, dict[str, Any]] = compose()["services"]
    ours = {
        name: svc for name, svc in services.items() if svc.get("image") == IMAGE and "entrypoint" not in svc
    }
    assert {"migrate", "api", "worker", "beat", "integration-sandbox", "parsing-sandbox"} <= set(ours)
    assert sum(1 for svc in ours.values() if svc["command"][0] == "beat") == 1, "exactly one beat"
    fields = Settings.model_fields
    for name, svc in ours.items():
        build_parser().parse_args(svc["command"])  # argparse exits (and fails the test) on a bad command
        values: dict[str, str] = {}
        for key, value in svc["environment"].items():
            if not key.startswith("INVITE_"):
                continue
            field = key.removeprefix("INVITE_").lower()
            assert field in fields, f"{name}: {key} is no setting"
            if "${" not in str(value):  # an operator's value, filled in by compose
                values[field] = str(value)
        Settings.model_validate(values)  # each literal value is of the setting's type
    assert ours["migrate"]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert (DEPLOY / ours["migrate"]["build"]["context"] / ours["migrate"]["build"]["dockerfile"]).exists()
    worker_env = ours["worker"]["environment"]
    assert "PROMETHEUS_MULTIPROC_DIR" in worker_env  # the prefork children share one /metrics
    scraped = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())["scrape_configs"]
    targets = {t for job in scraped for group in job["static_configs"] for t in group["targets"]}
    api_port = ours["api"]["command"][ours["api"]["command"].index("--port") + 1]
    assert {f"api:{api_port}", f"worker:{worker_env['INVITE_WORKER_METRICS_PORT']}"} <= targets
    # The simulators the defaults point at are services of the stack, on the ports they listen on.
    env = ours["api"]["environment"]
    for setting, service in (
        ("INVITE_INTEGRATION_URL", "integration-sandbox"),
        ("INVITE_PARSING_URL", "parsing-sandbox"),
    ):
        port = ours[service]["command"][ours[service]["command"].index("--port") + 1]
        assert env[setting].endswith(f":-http://{service}:{port}}}"), env[setting]


def test_compose_mounts_existing_files_and_names_existing_services() -> None:
    loaded = compose()
    services: dict[str, dict[str, Any]] = loaded["services"]
    named_volumes = set(loaded["volumes"])
    for name, svc in services.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):  # files the stack mounts from the repository exist
                assert (DEPLOY / source).exists(), f"{name}: {volume}"
            elif not source.startswith("/"):
                assert source in named_volumes, f"{name}: {source} is no declared volume"
        for dependency in svc.get("depends_on", {}):
            assert dependency in services, f"{name} depends on an unknown service {dependency}"
            # An optional (profile'd) service is never needed by the default stack.
            if "profiles" not in svc:
                assert "profiles" not in services[dependency], f"{name} needs the optional {dependency}"
    # The plan's names (plan §9.1): invite-postgres, invite_postgres_data, init.sql run on the first start.
    postgres = services["invite-postgres"]
    assert "invite_postgres_data:/var/lib/postgresql/data" in postgres["volumes"]
    assert any(v.startswith("./postgres/init.sql:/docker-entrypoint-initdb.d/") for v in postgres["volumes"])
    assert "postgres" not in services and "postgres" not in named_volumes
    for name, svc in services.items():
        for value in (svc.get("environment") or {}).values():
            if "postgresql" in str(value):
                assert "@invite-postgres:5432/" in str(value), f"{name}: {value}"
    assert "@invite-postgres:5432/invite_db" in services["api"]["environment"]["INVITE_DATABASE_URL"]
    # The optional pieces: log shipping and the real-Telegram Integration Service.
    assert services["vector"]["profiles"] == ["logs"] and services["loki"]["profiles"] == ["logs"]
    assert services["integration-service"]["profiles"] == ["telegram"]
    assert set(services) - {n for n, s in services.items() if "profiles" in s} >= {
        "alertmanager",
        "grafana",
        "vault",
        "vault-setup",
        "prometheus",
    }


def test_the_integration_service_container_runs_the_packaged_entry_point() -> None:
    from integration_service.config import Settings as IntegrationSettings

    svc = compose()["services"]["integration-service"]
    assert svc["image"] == IMAGE  # the same image: the wheel has both packages
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert svc["entrypoint"] == ["integration-service"] and "integration-service" in scripts
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"][
        "wheel"
    ]
    assert {"src/invite_service", "src/integration_service"} <= set(packages["packages"])
    fields = IntegrationSettings.model_fields
    for key in svc["environment"]:
        assert key.startswith("INTEGRATION_") and key.removeprefix("INTEGRATION_").lower() in fields, key
    assert svc["environment"]["INTEGRATION_DATABASE_URL"].endswith("@invite-postgres:5432/integration_db")
    command = svc["command"]
    assert command[0] == "serve"
    usage = run(Path(sys.executable).parent / "integration-service", "serve", "--help", cwd=ROOT)
    for option in command[1:]:
        if option.startswith("--"):
            assert option in usage, f"integration-service serve has no {option}"
    port = command[command.index("--port") + 1]
    assert f"127.0.0.1:{port}/health" in " ".join(svc["healthcheck"]["test"])


def test_the_prometheus_config_and_its_rules_load() -> None:
    tool = require_tool("promtool", "Debian package `prometheus`")
    checked = subprocess.run(
        [tool, "check", "config", "prometheus.yml"],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "alerts.yml" in checked.stdout + checked.stderr  # the rule file was found and checked too


def test_the_dockerfile_copies_what_exists_and_puts_the_ui_where_the_package_serves_it() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE):
        for source in sources.split():
            assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
            assert source.rstrip("/") not in ignored, f"COPY {source} is excluded by .dockerignore"
    # The UI stage builds in /src/frontend; Vite's outDir is relative to it.
    out_dir = re.search(r'outDir:\s*"([^"]+)"', (ROOT / "frontend/vite.config.ts").read_text())
    assert out_dir is not None
    built = (Path("/src/frontend") / out_dir.group(1)).resolve()
    assert f"COPY --from=ui {built} src/invite_service/ui" in text
    assert "WORKDIR /src/frontend" in text
    # The same uv as the Makefile, and the entry point the package declares.
    uv_version = re.search(r"^UV_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), flags=re.MULTILINE)
    assert uv_version is not None and f"ghcr.io/astral-sh/uv:{uv_version.group(1)} " in text
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert 'ENTRYPOINT ["invite-service"]' in text and "invite-service" in scripts
