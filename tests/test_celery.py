import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT, child_env, free_port

WORKER = [
    sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool=threads",
    "--concurrency=1", "--without-gossip", "--without-mingle", "--without-heartbeat",
]  # fmt: skip


def start_worker(**env: str) -> subprocess.CompletedProcess:
    """Run a worker with startup checks on; fail the test if it is still running after 20 s."""
    try:
        return subprocess.run(
            WORKER,
            cwd=REPO_ROOT,
            env=child_env(STARTUP_CHECKS="true", **env),
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the worker kept running although a service it needs does not answer")


@pytest.mark.slow
def test_a_worker_whose_database_does_not_answer_exits_naming_the_variable():
    dead = f"redis://127.0.0.1:{free_port()}/0"
    worker = start_worker(
        DATABASE_URL=f"postgres://helpdesk:s3cret@127.0.0.1:{free_port()}/helpdesk",
        REDIS_URL=dead,
        CELERY_BROKER_URL=dead,
    )

    assert worker.returncode != 0
    assert "DATABASE_URL: cannot connect to the database" in worker.stderr
    assert "s3cret" not in worker.stdout + worker.stderr


@pytest.mark.slow
def test_a_worker_whose_broker_does_not_answer_exits_naming_the_variable(tmp_path, redis_server):
    worker = start_worker(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL=redis_server.url,
        CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
    )

    assert worker.returncode != 0
    assert "CELERY_BROKER_URL: cannot connect to Redis" in worker.stderr
