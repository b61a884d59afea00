"""The team's tracking stack, for real: PostgreSQL, SeaweedFS's S3 server and ``mlflow server``.

The module starts one stack (``make stack-up``, free ports, a stack folder of
its own, secrets of its own) and stops it at the end (``make stack-down``),
whatever happened. Clones are copies of the project pointed at it with
``MLFLOW_TRACKING_URI`` only.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from tests.conftest import PROJECT_ROOT, _copy_project, kedro_process
from tests.e2e.test_mlflow import _latest_predictions
from tests.servers import free_port, running

pytestmark = pytest.mark.slow

STACK_PYTHON = PROJECT_ROOT / "build" / "stack-venv" / "bin" / "python"
STACK_SCRIPT = PROJECT_ROOT / "deploy" / "stack" / "stack.py"
VENV = Path(sys.prefix)
GAME_MODEL = "sub_churn_game1"


def _port_pair_free(port: int) -> bool:
    """``port`` and ``port + 10000`` (weed's gRPC port beside each) both free."""
    for number in (port, port + 10000):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", number))
            except OSError:
                return False
    return True


def _free_ports(count: int, consecutive: bool = False) -> list[int]:
    """Ports in 20000-44999 that are free, each with its +10000 twin free too."""
    rng = random.Random()
    for _ in range(1000):
        first = rng.randrange(20000, 45000 - count)
        ports = (
            list(range(first, first + count))
            if consecutive
            else [rng.randrange(20000, 45000) for _ in range(count)]
        )
        if len(set(ports)) == count and all(_port_pair_free(p) for p in ports):
            return ports
    raise RuntimeError("no free ports")


class Stack:
    """A running test stack: its settings as environment variables and how to reach it."""

    def __init__(self, folder: Path) -> None:
        postgres, s3, mlflow_port = _free_ports(3)
        base = _free_ports(4, consecutive=True)[0]
        self.folder = folder
        self.env = {
            "STACK_DIR": str(folder),
            "POSTGRES_PORT": str(postgres),
            "S3_PORT": str(s3),
            "SEAWEEDFS_PORT_BASE": str(base),
            "MLFLOW_PORT": str(mlflow_port),
            "S3_BUCKET": "kedro-ml-test",
            "STACK_POSTGRES_PASSWORD": "pg-" + secrets.token_hex(12),
            "STACK_S3_ACCESS_KEY": "ak" + secrets.token_hex(8),
            "STACK_S3_SECRET_KEY": "sk-" + secrets.token_hex(16),
        }
        self.uri = f"http://127.0.0.1:{mlflow_port}"

    def make(self, target: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "--no-print-directory", "-C", str(PROJECT_ROOT), target],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    def script(self, *args: str) -> subprocess.CompletedProcess:
        """``deploy/stack/stack.py <args>`` (one component up or down)."""
        return subprocess.run(
            [str(STACK_PYTHON), str(STACK_SCRIPT), *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def stack_python(self, code: str, *args: str) -> str:
        """Run ``code`` with the stack's own Python (boto3, psycopg2 live there, not in the project)."""
        result = subprocess.run(
            [str(STACK_PYTHON), "-c", code, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def bucket_keys(self) -> list[str]:
        """Every object key in the bucket, listed through S3 with the stack's keys."""
        code = (
            "import boto3, json, os\n"
            "s3 = boto3.client('s3', endpoint_url=f\"http://127.0.0.1:{os.environ['S3_PORT']}\",\n"
            "    aws_access_key_id=os.environ['STACK_S3_ACCESS_KEY'],\n"
            "    aws_secret_access_key=os.environ['STACK_S3_SECRET_KEY'], region_name='us-east-1')\n"
            "keys = []\n"
            "for page in s3.get_paginator('list_objects_v2').paginate(Bucket=os.environ['S3_BUCKET']):\n"
            "    keys += [o['Key'] for o in page.get('Contents', [])]\n"
            "print(json.dumps(keys))\n"
        )
        return json.loads(self.stack_python(code))

    def sql(self, query: str) -> list[tuple]:
        """Rows of ``query`` in the tracking database, asked of PostgreSQL itself."""
        code = (
            "import json, os, sys, psycopg2\n"
            "c = psycopg2.connect(host='127.0.0.1', port=int(os.environ['POSTGRES_PORT']),\n"
            "    user='mlflow', dbname='mlflow', password=os.environ['STACK_POSTGRES_PASSWORD'])\n"
            "cur = c.cursor(); cur.execute(sys.argv[1]); print(json.dumps(cur.fetchall(), default=str))\n"
        )
        return [tuple(row) for row in json.loads(self.stack_python(code, query))]

    def mlflow_pid(self) -> int:
        return int((self.folder / "mlflow.pid").read_text())

    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(self.uri)


def _stack_processes(folder: Path) -> list[int]:
    """Processes whose environment marks them as this stack's (as ``stack-down`` finds them)."""
    needle = f"KEDRO_ML_STACK={folder}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state != "Z":
                        found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def stack():
    """``make stack-up`` on free ports in a folder of its own; ``make stack-down`` always."""
    if not STACK_PYTHON.is_file():
        pytest.fail("the stack's environment is missing: run make stack-setup")
    # PostgreSQL runs as the postgres user when the tests run as root: its folder
    # must be one every user can reach (pytest's own tmp folders are private)
    folder = Path(tempfile.mkdtemp(prefix="kedro_ml-stack-", dir="/tmp"))
    folder.chmod(0o755)
    stack = Stack(folder)
    try:
        started = stack.make("stack-up")
        assert started.returncode == 0, started.stdout + started.stderr
        yield stack
    finally:
        stopped = stack.make("stack-down")
        left = _stack_processes(folder)
        for pid in left:  # never leave a server behind, even when stack-down failed
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not left, f"stack-down left processes running: {left}"


@contextlib.contextmanager
def _tracking_at(uri: str):
    """MLflow's process-wide tracking URI set to ``uri`` for the block, restored after."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)


def _clone(root: Path, name: str) -> Path:
    return _copy_project(root / name)


def _make(
    clone: Path, target: str, env: dict, *args: str
) -> subprocess.CompletedProcess:
    """``make <target>`` in ``clone`` with the environment running these tests."""
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            f"VENV={VENV}",
            "-o",
            str(VENV / ".installed"),
            target,
            *args,
        ],
        cwd=clone,
        env={**os.environ, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def scientist(stack, tmp_path_factory):
    """A data scientist's clone: ``make run`` with MLFLOW_TRACKING_URI set to what stack-status prints."""
    status = stack.make("stack-status")
    assert status.returncode == 0, status.stdout + status.stderr
    lines = status.stdout.splitlines()
    (uri_line,) = [line for line in lines if line.startswith("MLFLOW_TRACKING_URI=")]
    assert f"S3_ENDPOINT=http://127.0.0.1:{stack.env['S3_PORT']}" in lines
    assert f"S3_BUCKET={stack.env['S3_BUCKET']}" in lines
    uri = uri_line.split("=", 1)[1]
    assert uri == stack.uri
    # later commands need only the folder (and the secrets to log in): the
    # running stack is described by the ports it was started with
    only_folder = {k: v for k, v in stack.env.items() if "PORT" not in k}
    again = subprocess.run(
        [str(STACK_PYTHON), str(STACK_SCRIPT), "status"],
        env={**{k: v for k, v in os.environ.items() if "PORT" not in k}, **only_folder},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"MLFLOW_TRACKING_URI={stack.uri}" in again.stdout
    clone = _clone(tmp_path_factory.mktemp("scientist"), "project")
    ran = _make(clone, "run", {"MLFLOW_TRACKING_URI": uri})
    assert ran.returncode == 0, ran.stdout + ran.stderr
    return clone, ran.stdout + ran.stderr


def test_make_run_tracks_into_postgres_and_the_bucket(stack, scientist):
    clone, output = scientist
    client = stack.client()
    experiment = client.get_experiment_by_name("sub_churn_game1")
    # artifacts go through the server, not to a path of the clone
    assert experiment.artifact_location.startswith("mlflow-artifacts:")
    runs = client.search_runs([experiment.experiment_id])
    assert runs and all(run.info.status == "FINISHED" for run in runs)
    assert any("roc_auc" in key for run in runs for key in run.data.metrics)
    # the runs the client sees are rows of PostgreSQL's tables
    (count,) = stack.sql(
        f"SELECT count(*) FROM runs WHERE experiment_id = {experiment.experiment_id}"
    )
    assert count[0] == len(runs)
    champion = client.get_model_version_by_alias(GAME_MODEL, "champion")
    assert stack.sql(
        f"SELECT version FROM registered_model_aliases WHERE name = '{GAME_MODEL}' "
        "AND alias = 'champion'"
    ) == [(int(champion.version),)]
    # the champion's files are objects of the bucket
    model_id = champion.source.removeprefix("models:/")
    keys = stack.bucket_keys()
    files = [key for key in keys if f"/models/{model_id}/artifacts/" in key]
    assert any(key.endswith("/MLmodel") for key in files), keys[:20]
    assert any(key.endswith(".skops") for key in files), files
    # nothing of the local store
    assert not (clone / "mlflow.db").exists()
    assert not (clone / "mlruns").exists()
    assert not (clone / "mlartifacts").exists()
    # the summary points at the server's UI
    assert f"runs      in MLflow: {stack.uri}" in output


def test_a_second_clone_predicts_and_serves_the_champion(stack, scientist, tmp_path):
    """An ML engineer's clone, with no model of its own, works from the shared registry."""
    scientist_clone, _ = scientist
    engineer = _clone(tmp_path, "engineer")
    assert not any((engineer / "data" / "06_models").iterdir())
    env = {"MLFLOW_TRACKING_URI": stack.uri}
    for pipeline in ("sub_churn_standard_features", "sub_churn_batch_predict"):
        ran = kedro_process(engineer, "run", "-p", pipeline, env=env)
        assert ran.returncode == 0, ran.stdout + ran.stderr
    assert not (engineer / "mlflow.db").exists()
    champion = stack.client().get_model_version_by_alias(GAME_MODEL, "champion")
    theirs = _latest_predictions(scientist_clone)
    ours = _latest_predictions(engineer)
    assert set(ours["model_id"]) == set(theirs["model_id"])
    assert ours["model_source"].str.contains(f"version {champion.version}").all()
    pd.testing.assert_frame_equal(
        ours.sort_values("sub_id").reset_index(drop=True),
        theirs.sort_values("sub_id").reset_index(drop=True),
    )

    # the online path: refresh the store, `make serve`, batch rows posted
    ran = kedro_process(
        engineer, "run", "-p", "sub_churn_refresh_online_store", env=env
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    features = pd.read_parquet(
        engineer / "data" / "04_feature" / "batch_predict_features.parquet"
    ).head(40)
    port = free_port()
    command = [
        "make",
        "--no-print-directory",
        f"VENV={VENV}",
        "-o",
        str(VENV / ".installed"),
        "serve",
        f"PORT={port}",
    ]
    with running(
        command,
        f"http://127.0.0.1:{port}/ping",
        tmp_path / "serve.log",
        env=env,
        cwd=engineer,
    ):
        body = {
            "dataframe_split": json.loads(
                features.to_json(orient="split", index=False, date_format="iso")
            )
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/invocations",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            served = pd.DataFrame(json.loads(response.read())["predictions"])
    assert f"models:/{GAME_MODEL}@champion" in (tmp_path / "serve.log").read_text()
    joined = served.merge(theirs, on="sub_id", suffixes=("_served", "_batch"))
    assert len(joined) == len(features)
    gap = (joined["sub_churn_pred_served"] - joined["sub_churn_pred_batch"]).abs()
    assert gap.max() < 1e-9


def test_retraining_and_replay_track_on_the_server(stack, scientist):
    """The project commands use the same switch: their runs are the server's."""
    clone, _ = scientist
    env = {"MLFLOW_TRACKING_URI": stack.uri}
    decided = kedro_process(clone, "retrain-if-drifted", env=env)
    assert decided.returncode == 0, decided.stdout + decided.stderr
    replayed = kedro_process(
        clone, "replay", "--from", "2017-01-01", "--to", "2017-02-01", env=env
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    client = stack.client()
    game = client.get_experiment_by_name("sub_churn_game1")
    decisions = client.search_runs(
        [game.experiment_id], "tags.pipeline = 'retrain-if-drifted'"
    )
    assert decisions, "the retraining decision is not on the server"
    replay = client.get_experiment_by_name("sub_churn_game1_replay")
    assert replay.artifact_location.startswith("mlflow-artifacts:")
    timeline = json.loads(
        (clone / "data" / "08_reporting" / "replay" / "timeline.json").read_text()
    )
    parent = client.get_run(timeline["mlflow_run_id"])
    assert parent.info.experiment_id == replay.experiment_id
    assert parent.data.tags["pipeline"] == "replay"
    months = client.search_runs(
        [replay.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
    )
    assert sorted(run.data.tags["replay.month"] for run in months) == [
        "2017-01-01",
        "2017-02-01",
    ]
    assert client.search_model_versions("name='sub_churn_game1_replay'")
    assert not (clone / "mlflow.db").exists() and not (clone / "mlruns").exists()


def test_two_clones_promote_at_once_and_one_wins(stack, tmp_path):
    from tests.datasets.test_mlflow_models import race_promotions

    clones = [tmp_path / "first", tmp_path / "second"]
    for clone in clones:
        clone.mkdir()
    with _tracking_at(stack.uri):
        mlflow.set_experiment("test")  # where the racers look for their models
        race_promotions(clones, stack.uri)


def test_a_run_stops_before_its_first_node_when_the_server_is_down(stack, scientist):
    clone, _ = scientist
    down = stack.script("down", "mlflow")
    assert down.returncode == 0, down.stdout + down.stderr
    try:
        ran = kedro_process(
            clone,
            "run",
            "-p",
            "sub_churn_train",
            env={"MLFLOW_TRACKING_URI": stack.uri},
        )
    finally:
        up = stack.script("up", "mlflow")
        assert up.returncode == 0, up.stdout + up.stderr
    output = ran.stdout + ran.stderr
    assert ran.returncode == 1, output
    assert f"The MLflow tracking server at {stack.uri} does not answer" in output
    assert "[1/" not in output  # no node started
    assert "Traceback" not in output


def test_a_server_killed_mid_run_leaves_the_champion_and_a_rerun_succeeds(
    stack, scientist, tmp_path
):
    clone, _ = scientist
    client = stack.client()
    before = client.get_model_version_by_alias(GAME_MODEL, "champion").version
    versions_before = len(client.search_model_versions(f"name='{GAME_MODEL}'"))
    env = {**os.environ, "MLFLOW_TRACKING_URI": stack.uri, "COLUMNS": "200"}
    log = tmp_path / "run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            [str(VENV / "bin" / "kedro"), "run"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            while "train_model" not in log.read_text():
                assert run.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
            os.killpg(stack.mlflow_pid(), signal.SIGKILL)  # the server, not the run
            run.wait(timeout=300)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(run.pid, signal.SIGKILL)
    output = log.read_text()
    assert run.returncode == 1, output
    assert f"The MLflow tracking server at {stack.uri} stopped answering" in output
    assert "Traceback" not in output

    up = stack.script("up", "mlflow")
    assert up.returncode == 0, up.stdout + up.stderr
    client = stack.client()
    assert client.get_model_version_by_alias(GAME_MODEL, "champion").version == before
    assert len(client.search_model_versions(f"name='{GAME_MODEL}'")) == versions_before
    rerun = kedro_process(clone, "run", env={"MLFLOW_TRACKING_URI": stack.uri})
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    # the killed run is not left RUNNING: the rerun's sweep marked it FAILED
    experiment = client.get_experiment_by_name("sub_churn_game1")
    statuses = {r.info.status for r in client.search_runs([experiment.experiment_id])}
    assert "RUNNING" not in statuses and "FAILED" in statuses


# A promotion whose server dies between registering the version and moving the
# alias: the process exits with the server's error; nothing else is mocked.
KILLED_PROMOTION = """
import os, signal, sys
from pathlib import Path
import mlflow
from mlflow import MlflowClient
from kedro_ml.datasets.mlflow_models import MlflowPromotionDataset

folder, model_id, uri, server_pid = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("killed-promotion")
if server_pid:
    moving = MlflowClient.set_registered_model_alias
    def kill_then_move(self, *args, **kwargs):
        os.killpg(server_pid, signal.SIGKILL)
        return moving(self, *args, **kwargs)
    MlflowClient.set_registered_model_alias = kill_then_move
dataset = MlflowPromotionDataset(
    registered_model_name="sub_churn_killed", record_filepath=str(folder / "promotions.json")
)
with mlflow.start_run():
    dataset.save({"model_id": model_id, "promote": True, "reason": "better",
                  "champion_version": None, "candidate_roc_auc": 0.8})
print("PROMOTED", flush=True)
"""


def test_a_server_killed_mid_promotion_makes_no_champion(stack, tmp_path):
    from tests.datasets.test_mlflow_models import _log, _trained

    model = _trained(["price", "soft_balance_last"], "killed-mid-promotion")
    with _tracking_at(stack.uri):
        mlflow.set_experiment("killed-promotion")
        _log(model)

    def promote(server_pid: int) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", KILLED_PROMOTION, str(tmp_path), model.model_id_]
            + [stack.uri, str(server_pid)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env={**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1"},
        )

    killed = promote(stack.mlflow_pid())
    assert killed.returncode != 0 and "PROMOTED" not in killed.stdout, killed.stdout
    up = stack.script("up", "mlflow")
    assert up.returncode == 0, up.stdout + up.stderr
    client = stack.client()
    (registered,) = client.search_model_versions("name='sub_churn_killed'")
    assert not registered.aliases  # registered, never champion
    assert not (tmp_path / "promotions.json").exists()
    # the lock the killed process held is taken over at once, its version reused
    started = time.monotonic()
    again = promote(0)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (
        time.monotonic() - started < 120
    )  # not the 300 s a stale lock of another host waits
    champion = client.get_model_version_by_alias("sub_churn_killed", "champion")
    assert champion.version == registered.version
    assert len(client.search_model_versions("name='sub_churn_killed'")) == 1


def test_the_server_recovers_from_a_database_restart(stack, scientist):
    clone, _ = scientist
    for step in (("down", "postgres"), ("up", "postgres")):
        result = stack.script(*step)
        assert result.returncode == 0, result.stdout + result.stderr
    assert stack.mlflow_pid()  # the MLflow server kept running
    client = stack.client()
    assert client.get_experiment_by_name("sub_churn_game1") is not None
    ran = kedro_process(
        clone,
        "run",
        "-p",
        "sub_churn_batch_predict",
        env={"MLFLOW_TRACKING_URI": stack.uri},
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_the_stack_secrets_stay_out_of_tracked_files_and_packages(stack, tmp_path):
    """Passwords and keys come from the environment: none in git, the conf archive or the wheel."""
    secrets_ = [
        stack.env[k] for k in stack.env if k.startswith("STACK_") and k != "STACK_DIR"
    ]
    # the server's command line shows no password (it reaches libpq by environment)
    cmdline = Path(f"/proc/{stack.mlflow_pid()}/cmdline").read_bytes()
    assert not any(secret.encode() in cmdline for secret in secrets_)
    # a clone whose conf/local/credentials.yml holds them: the archive leaves them out
    clone = _clone(tmp_path, "project")
    (clone / "conf" / "local" / "credentials.yml").write_text(
        "mlflow_stack:\n"
        + "".join(
            f"  {k.lower()}: {stack.env[k]}\n"
            for k in stack.env
            if k.startswith("STACK_")
        )
    )
    subprocess.run(["git", "init", "-q"], cwd=clone, check=True)
    subprocess.run(["git", "add", "-A"], cwd=clone, check=True)
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=clone, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "conf/local/credentials.yml" not in tracked
    for name in tracked:
        path = clone / name
        if path.is_file():
            content = path.read_bytes()
            assert not any(secret.encode() in content for secret in secrets_), name
    archived = _make(clone, "conf-archive", {})
    assert archived.returncode == 0, archived.stdout + archived.stderr
    import tarfile

    with tarfile.open(clone / "dist" / "conf-kedro_ml.tar.gz") as archive:
        names = archive.getnames()
        for member in archive.getmembers():
            if member.isfile():
                content = archive.extractfile(member).read()
                assert not any(secret.encode() in content for secret in secrets_)
    assert "conf/local/credentials.yml" not in names
    # the image's build context leaves conf/local and credentials out
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    assert "conf/local" in ignored and "conf/**/*credentials*" in ignored


def test_stack_down_stops_everything_and_the_data_survives(stack):
    champion = stack.client().get_model_version_by_alias(GAME_MODEL, "champion")
    down = stack.make("stack-down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert _stack_processes(stack.folder) == []
    status = stack.make("stack-status")
    # stack.py exits 3 when something is down (make then fails too)
    assert status.returncode != 0 and status.stdout.count("stopped") == 3, status.stdout
    up = stack.make("stack-up")
    assert up.returncode == 0, up.stdout + up.stderr
    again = stack.client().get_model_version_by_alias(GAME_MODEL, "champion")
    assert (again.version, again.source) == (champion.version, champion.source)
    assert any(
        key.endswith("/MLmodel") and champion.source.removeprefix("models:/") in key
        for key in stack.bucket_keys()
    )
