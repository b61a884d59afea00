"""The team's tracking stack on one machine: PostgreSQL, an S3 store (SeaweedFS) and an MLflow server.

``make stack-up``, ``make stack-down`` and ``make stack-status`` run this file
with the stack's own Python (``build/stack-venv``, from
``deploy/stack/requirements.txt``): the server's drivers (psycopg2, boto3) and
SeaweedFS's ``weed`` binary live there, never in the project's runtime.

Everything binds to 127.0.0.1. The settings (ports, names) are
``deploy/stack/stack.env``, the same file ``deploy/compose.yaml`` reads; any of
them can be set in the environment instead. The secrets (the database password
and the S3 keys) come from the environment (``STACK_POSTGRES_PASSWORD``,
``STACK_S3_ACCESS_KEY``, ``STACK_S3_SECRET_KEY``) or from
``conf/local/credentials.yml`` (``mlflow_stack:``); on the first ``stack-up``
without either, new ones are written there (git ignores ``conf/local``).

The data lives under ``STACK_DIR`` (``build/stack``) and survives
``stack-down``/``stack-up``. Each process is recorded (pid file) and stopped by
it; every process the stack starts carries ``KEDRO_ML_STACK=<STACK_DIR>`` in its
environment, so ``stack-down`` also finds what a killed ``stack-up`` left.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = Path(__file__).with_name("stack.env")
CREDENTIALS_FILE = PROJECT / "conf" / "local" / "credentials.yml"
CREDENTIALS_KEY = "mlflow_stack"
# environment variable -> key under ``mlflow_stack:`` in conf/local/credentials.yml
SECRETS = {
    "STACK_POSTGRES_PASSWORD": "postgres_password",
    "STACK_S3_ACCESS_KEY": "s3_access_key",
    "STACK_S3_SECRET_KEY": "s3_secret_key",
}
MARKER = "KEDRO_ML_STACK"
RECORD = "settings.json"  # the settings a running stack was started with
COMPONENTS = ("postgres", "s3", "mlflow")
START_TIMEOUT = float(os.environ.get("STACK_START_TIMEOUT", "120"))
STOP_TIMEOUT = 30.0


class StackError(Exception):
    """A stack command cannot go on; the message says what to do."""


# --- settings -------------------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines of ``path`` (comments and blank lines skipped)."""
    values = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise StackError(f"{path}, line {number}: expected KEY=VALUE, got {line!r}")
        values[key.strip()] = value.strip()
    return values


@dataclass(frozen=True)
class Settings:
    """Where the stack lives and listens."""

    stack_dir: Path
    postgres_port: int
    postgres_db: str
    postgres_user: str
    s3_port: int
    s3_bucket: str
    seaweedfs_port_base: int
    mlflow_port: int

    @classmethod
    def load(cls, environ: dict[str, str] | None = None) -> Settings:
        environ = dict(os.environ if environ is None else environ)
        values = read_env_file(SETTINGS_FILE)
        stack_dir = Path(
            environ.get("STACK_DIR") or values.get("STACK_DIR", "build/stack")
        )
        if not stack_dir.is_absolute():
            stack_dir = PROJECT / stack_dir
        # a running stack is described by the settings it was started with
        values.update(recorded_settings(stack_dir))
        values.update({k: environ[k] for k in values if environ.get(k)})

        def port(key: str) -> int:
            raw = values[key]
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise StackError(
                    f"{key}={raw} is not a port: give a number from 1 to 65535"
                )
            return int(raw)

        base = port("SEAWEEDFS_PORT_BASE")
        if base + 3 + 10000 > 65535:
            raise StackError(
                f"SEAWEEDFS_PORT_BASE={base}: weed also listens 10000 above each of its "
                "four ports; give one at most 55532"
            )
        return cls(
            stack_dir=stack_dir,
            postgres_port=port("POSTGRES_PORT"),
            postgres_db=values["POSTGRES_DB"],
            postgres_user=values["POSTGRES_USER"],
            s3_port=port("S3_PORT"),
            s3_bucket=values["S3_BUCKET"],
            seaweedfs_port_base=base,
            mlflow_port=port("MLFLOW_PORT"),
        )

    def record(self) -> None:
        """Write the settings beside the stack, for later commands while it runs."""
        values = {
            "POSTGRES_PORT": self.postgres_port,
            "POSTGRES_DB": self.postgres_db,
            "POSTGRES_USER": self.postgres_user,
            "S3_PORT": self.s3_port,
            "S3_BUCKET": self.s3_bucket,
            "SEAWEEDFS_PORT_BASE": self.seaweedfs_port_base,
            "MLFLOW_PORT": self.mlflow_port,
        }
        path = self.stack_dir / RECORD
        temporary = path.with_name(f".{RECORD}.{os.getpid()}.partial")
        temporary.write_text(
            json.dumps({k: str(v) for k, v in values.items()}, indent=1)
        )
        os.replace(temporary, path)

    @property
    def tracking_uri(self) -> str:
        return f"http://127.0.0.1:{self.mlflow_port}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def ports(self) -> dict[str, int]:
        """Every port the stack listens on, by what listens."""
        base = self.seaweedfs_port_base
        weed = {
            "master": base,
            "volume": base + 1,
            "filer": base + 2,
            "admin": base + 3,
        }
        ports = {"POSTGRES_PORT": self.postgres_port, "S3_PORT": self.s3_port}
        ports["S3_PORT (gRPC, +10000)"] = self.s3_port + 10000
        for name, number in weed.items():
            ports[f"SEAWEEDFS_PORT_BASE ({name})"] = number
            ports[f"SEAWEEDFS_PORT_BASE ({name} gRPC, +10000)"] = number + 10000
        ports["MLFLOW_PORT"] = self.mlflow_port
        return ports


def recorded_settings(stack_dir: Path) -> dict[str, str]:
    """The settings the stack in ``stack_dir`` was started with, while a part of it runs."""
    try:
        recorded = json.loads((stack_dir / RECORD).read_text())
    except (OSError, ValueError):
        return {}
    pid_files = {
        "postgres": stack_dir / "postgres" / "data" / "postmaster.pid",
        "weed": stack_dir / "s3.pid",
        "mlflow": stack_dir / "mlflow.pid",
    }
    for program, pid_file in pid_files.items():
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().split()[0])
            if _alive(pid) and program in _cmdline(pid):
                return {str(k): str(v) for k, v in recorded.items()}
    return {}


def credentials(create: bool) -> dict[str, str]:
    """The stack's secrets: environment first, then conf/local/credentials.yml; new ones if asked."""
    import yaml

    stored: dict = {}
    if CREDENTIALS_FILE.is_file():
        try:
            content = yaml.safe_load(CREDENTIALS_FILE.read_text()) or {}
        except yaml.YAMLError as error:
            raise StackError(f"{CREDENTIALS_FILE} is not valid YAML: {error}") from None
        if not isinstance(content, dict):
            raise StackError(f"{CREDENTIALS_FILE} must hold a mapping of credentials")
        stored = content.get(CREDENTIALS_KEY) or {}
        if not isinstance(stored, dict):
            raise StackError(f"{CREDENTIALS_FILE}: {CREDENTIALS_KEY} must be a mapping")
    found = {}
    for variable, key in SECRETS.items():
        value = os.environ.get(variable) or stored.get(key)
        if value is not None:
            found[variable] = str(value)
    missing = [v for v in SECRETS if v not in found]
    if not missing:
        return found
    if not create:
        raise StackError(
            f"No {', '.join(missing)} in the environment or under {CREDENTIALS_KEY}: in "
            f"{CREDENTIALS_FILE}: the stack cannot be reached without them"
        )
    if found:  # some given, some not: never mix a made-up secret with given ones
        raise StackError(
            f"{', '.join(missing)} missing (the other stack secrets are set): set all three "
            f"in the environment, or all under {CREDENTIALS_KEY}: in {CREDENTIALS_FILE}"
        )
    made = {
        "STACK_POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "STACK_S3_ACCESS_KEY": "kedroml" + secrets.token_hex(6),
        "STACK_S3_SECRET_KEY": secrets.token_urlsafe(30),
    }
    content = {}
    if CREDENTIALS_FILE.is_file():
        content = yaml.safe_load(CREDENTIALS_FILE.read_text()) or {}
    content[CREDENTIALS_KEY] = {SECRETS[k]: v for k, v in made.items()}
    CREDENTIALS_FILE.parent.mkdir(parents=True, exist_ok=True)
    temporary = CREDENTIALS_FILE.with_name(
        f".{CREDENTIALS_FILE.name}.{os.getpid()}.partial"
    )
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(content, out, sort_keys=False)
    os.replace(temporary, CREDENTIALS_FILE)
    print(f"New stack credentials written to {CREDENTIALS_FILE} ({CREDENTIALS_KEY}:)")
    return made


# --- processes --------------------------------------------------------------------


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def marked_processes(stack_dir: Path) -> list[int]:
    """Processes started for the stack in ``stack_dir`` (their environment says so)."""
    needle = f"{MARKER}={stack_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0") and _alive(
                int(entry.name)
            ):
                found.append(int(entry.name))
    return sorted(found)


class Component:
    """One process of the stack: its pid file, its log, how to see it is healthy."""

    name = ""
    program = ""  # a word of its command line, so a reused pid is never signalled

    def __init__(self, settings: Settings, secrets_: dict[str, str] | None) -> None:
        self.settings = settings
        self.secrets = secrets_ or {}
        self.dir = settings.stack_dir / self.name
        self.pid_file = settings.stack_dir / f"{self.name}.pid"
        self.log = settings.stack_dir / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        """The recorded pid, when that process still runs this component."""
        try:
            pid = int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if _alive(pid) and self.program in _cmdline(pid):
            return pid
        return None

    def healthy(self) -> bool:
        raise NotImplementedError

    def where(self) -> str:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return {**os.environ, MARKER: str(self.settings.stack_dir)}

    def spawn(self, command: list[str], env: dict[str, str]) -> int:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"\n--- started {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            out.flush()
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.settings.stack_dir,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        self._process = process
        return process.pid

    def wait_healthy(self) -> None:
        """Wait until the health check passes; fail at once when the process exits."""
        deadline = time.monotonic() + START_TIMEOUT
        while not self.healthy():
            process = getattr(self, "_process", None)
            if process is not None and process.poll() is not None:
                raise StackError(
                    f"{self.name} exited with {process.returncode} while starting; "
                    f"its log ({self.log}) ends:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                raise StackError(
                    f"{self.name} did not answer its health check within "
                    f"{START_TIMEOUT:.0f} s (STACK_START_TIMEOUT); its log ({self.log}) "
                    f"ends:\n{self.log_tail()}"
                )
            time.sleep(0.2)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        pid = self.pid()
        if pid is not None:
            _terminate_group(pid)
        self.pid_file.unlink(missing_ok=True)


def _group_members(group: int) -> list[int]:
    """Live processes of process group ``group``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == group and fields[0] != "Z":
                    members.append(int(entry.name))
    return members


def _terminate_group(pid: int) -> None:
    """SIGTERM to the process group of ``pid``; SIGKILL what is left after STOP_TIMEOUT.

    Returns once no process of the group is left (a server's workers hold its
    port until they are gone).
    """
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _group_members(group) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_members(group):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_members(group) and time.monotonic() < deadline:
            time.sleep(0.1)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


class Postgres(Component):
    """A PostgreSQL cluster of Debian's binaries under ``STACK_DIR/postgres``, TCP on 127.0.0.1 only."""

    name = "postgres"
    program = "postgres"

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def bindir(self) -> Path:
        given = os.environ.get("PG_BINDIR")
        candidates = [Path(given)] if given else []
        versions = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
        candidates += versions
        if shutil.which("initdb"):
            candidates.append(Path(shutil.which("initdb")).parent)
        for candidate in candidates:
            if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
                return candidate
        raise StackError(
            "PostgreSQL's server programs (initdb, pg_ctl) are not installed: run "
            "make stack-setup as root (Debian's postgresql package), or set PG_BINDIR"
        )

    def as_owner(self, command: list[str]) -> list[str]:
        """PostgreSQL never runs as root: as root, the cluster is the postgres user's."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *command]
        return command

    def _run(self, command: list[str], what: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.as_owner(command),
            capture_output=True,
            text=True,
            env=self.environment(),
            cwd="/",
            check=False,
        )
        if result.returncode != 0:
            raise StackError(
                f"{what} failed:\n{(result.stdout + result.stderr).strip()}"
            )
        return result

    def _prepare_dir(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            reach = subprocess.run(
                ["runuser", "-u", "postgres", "--", "test", "-w", str(self.dir)],
                check=False,
            )
            if reach.returncode != 0:
                raise StackError(
                    f"PostgreSQL runs as the user postgres, which cannot write {self.dir} "
                    "(a folder above it is closed to other users): choose a STACK_DIR "
                    "every user can reach"
                )
        os.chmod(self.dir, 0o700)

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").is_file()

    def init(self) -> None:
        """A new cluster whose superuser is POSTGRES_USER with the stack's password."""
        self._prepare_dir()
        password_file = self.dir / ".pwfile"
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.secrets["STACK_POSTGRES_PASSWORD"] + "\n")
        if os.geteuid() == 0:
            import pwd

            owner = pwd.getpwnam("postgres")
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        try:
            self._run(
                [
                    str(self.bindir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    self.settings.postgres_user,
                    f"--pwfile={password_file}",
                    "--auth=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                ],
                "initdb",
            )
        finally:
            password_file.unlink(missing_ok=True)

    def pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        if _alive(pid) and self.program in _cmdline(pid):
            return pid
        return None

    def _connect(self, database: str):
        import psycopg2

        return psycopg2.connect(
            host="127.0.0.1",
            port=self.settings.postgres_port,
            user=self.settings.postgres_user,
            password=self.secrets.get("STACK_POSTGRES_PASSWORD", ""),
            dbname=database,
            connect_timeout=3,
        )

    def healthy(self) -> bool:
        import psycopg2

        try:
            with contextlib.closing(self._connect("postgres")):
                return True
        except psycopg2.OperationalError as error:
            if "password authentication failed" in str(error):
                raise StackError(
                    f"PostgreSQL on port {self.settings.postgres_port} refuses the stack's "
                    f"password for {self.settings.postgres_user}: the cluster in {self.data} "
                    "keeps the password it was created with; give that one "
                    "(STACK_POSTGRES_PASSWORD or conf/local/credentials.yml)"
                ) from None
            return False

    def where(self) -> str:
        return f"127.0.0.1:{self.settings.postgres_port} (data {self.data})"

    def start(self) -> None:
        if not self.initialised():
            print(f"Creating a PostgreSQL cluster in {self.data}")
            self.init()
        self._prepare_dir()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        log = self.dir / "postgres.log"  # written by the postgres user
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.settings.postgres_port} "
            "-c unix_socket_directories=''"
        )
        self._run(
            [
                str(self.bindir() / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                str(int(START_TIMEOUT)),
                "start",
            ],
            f"Starting PostgreSQL (log {log})",
        )
        with contextlib.suppress(FileNotFoundError):
            self.log.unlink()
        with contextlib.suppress(OSError):
            self.log.symlink_to(log)
        self.wait_healthy()
        self._create_database()

    def _create_database(self) -> None:
        from psycopg2 import sql

        with contextlib.closing(self._connect("postgres")) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s",
                    (self.settings.postgres_db,),
                )
                if cursor.fetchone() is None:
                    cursor.execute(
                        sql.SQL("CREATE DATABASE {}").format(
                            sql.Identifier(self.settings.postgres_db)
                        )
                    )

    def stop(self) -> None:
        if self.pid() is not None:
            self._run(
                [
                    str(self.bindir() / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(int(STOP_TIMEOUT)),
                    "stop",
                ],
                "Stopping PostgreSQL",
            )


class S3Store(Component):
    """SeaweedFS (``weed mini``): an S3 server whose keys are the stack's, data under ``STACK_DIR/s3``."""

    name = "s3"
    program = "weed"

    def healthy(self) -> bool:
        if not _http_ok(f"{self.settings.s3_endpoint}/healthz"):
            return False
        return self._bucket_exists()

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.settings.s3_endpoint,
            aws_access_key_id=self.secrets["STACK_S3_ACCESS_KEY"],
            aws_secret_access_key=self.secrets["STACK_S3_SECRET_KEY"],
            region_name="us-east-1",
            config=Config(
                retries={"max_attempts": 1}, connect_timeout=3, read_timeout=10
            ),
        )

    def _bucket_exists(self) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client().head_bucket(Bucket=self.settings.s3_bucket)
            return True
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {
                "403",
                "AccessDenied",
                "SignatureDoesNotMatch",
                "InvalidAccessKeyId",
            }:
                raise StackError(
                    f"The S3 store at {self.settings.s3_endpoint} refuses the stack's keys "
                    f"({code}): is another S3 server on S3_PORT={self.settings.s3_port}?"
                ) from None
            return False
        except BotoCoreError:
            return False

    def where(self) -> str:
        return f"{self.settings.s3_endpoint} bucket {self.settings.s3_bucket} (data {self.dir})"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "mlflow",
                    "credentials": [
                        {
                            "accessKey": self.secrets["STACK_S3_ACCESS_KEY"],
                            "secretKey": self.secrets["STACK_S3_SECRET_KEY"],
                        }
                    ],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.settings.stack_dir / "s3-identities.json"
        fd = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(identities, out)
        base = self.settings.seaweedfs_port_base
        weed = Path(sys.executable).with_name("weed")
        if not weed.is_file():
            raise StackError(f"{weed} is missing: run make stack-setup")
        self.spawn(
            [
                str(weed),
                "mini",
                f"-dir={self.dir}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                f"-master.port={base}",
                f"-volume.port={base + 1}",
                f"-filer.port={base + 2}",
                f"-admin.port={base + 3}",
                "-admin.ui=false",
                f"-s3.port={self.settings.s3_port}",
                "-s3.port.iceberg=0",
                "-s3.port.lance=0",
                "-webdav=false",
                "-master.telemetry=false",
                f"-s3.config={config}",
                f"-bucket={self.settings.s3_bucket}",
            ],
            self.environment(),
        )
        self.wait_healthy()


class MlflowServer(Component):
    """``mlflow server``: runs and the registry in PostgreSQL, artifacts in the bucket, served to clients."""

    name = "mlflow"
    program = "mlflow"

    def healthy(self) -> bool:
        return _http_ok(f"{self.settings.tracking_uri}/health")

    def where(self) -> str:
        s = self.settings
        return (
            f"{s.tracking_uri} (runs in postgresql://127.0.0.1:{s.postgres_port}/"
            f"{s.postgres_db}, artifacts in s3://{s.s3_bucket}/mlartifacts)"
        )

    def start(self) -> None:
        s = self.settings
        env = {
            **self.environment(),
            # the password reaches libpq by its environment, never a command line
            "PGPASSWORD": self.secrets["STACK_POSTGRES_PASSWORD"],
            "AWS_ACCESS_KEY_ID": self.secrets["STACK_S3_ACCESS_KEY"],
            "AWS_SECRET_ACCESS_KEY": self.secrets["STACK_S3_SECRET_KEY"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "MLFLOW_S3_ENDPOINT_URL": s.s3_endpoint,
            # a job runner would add ~10 processes and 2.4 GiB on 2 cores
            "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
        }
        env.pop("MLFLOW_TRACKING_URI", None)
        self.spawn(
            [
                str(Path(sys.executable).with_name("mlflow")),
                "server",
                "--backend-store-uri",
                f"postgresql+psycopg2://{s.postgres_user}@127.0.0.1:{s.postgres_port}/{s.postgres_db}",
                "--artifacts-destination",
                f"s3://{s.s3_bucket}/mlartifacts",
                "--host",
                "127.0.0.1",
                "--port",
                str(s.mlflow_port),
                "--workers",
                "1",
            ],
            env,
        )
        self.wait_healthy()


def components(settings: Settings, secrets_: dict[str, str] | None) -> list[Component]:
    """The stack in the order it starts (and stops in reverse)."""
    return [
        Postgres(settings, secrets_),
        S3Store(settings, secrets_),
        MlflowServer(settings, secrets_),
    ]


def _port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (as servers do, despite closed connections)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def stack_lock(settings: Settings) -> Iterator[None]:
    """One stack command at a time on a stack folder (made by ``up`` only)."""
    if not settings.stack_dir.is_dir():
        yield  # nothing was ever started here
        return
    with (settings.stack_dir / ".stack.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


# --- commands -------------------------------------------------------------------


def up(settings: Settings, only: list[str] | None = None) -> int:
    secrets_ = credentials(create=True)
    stack = components(settings, secrets_)
    wanted = [c for c in stack if not only or c.name in only]
    settings.stack_dir.mkdir(parents=True, exist_ok=True)
    with stack_lock(settings):
        # a port taken by something else is named before anything starts
        running = {c.name for c in stack if c.pid() is not None}
        owners = {
            "POSTGRES_PORT": "postgres",
            "S3_PORT": "s3",
            "SEAWEEDFS_PORT_BASE": "s3",
            "MLFLOW_PORT": "mlflow",
        }
        for label, number in settings.ports().items():
            owner = owners[label.split(" ")[0]]
            if owner in {c.name for c in wanted} - running and not _port_free(number):
                raise StackError(
                    f"Port {number} ({label}) is taken by another program: set "
                    f"{label.split(' ')[0]} to a free one (make stack-up "
                    f"{label.split(' ')[0]}=...)"
                )
        settings.record()
        started: list[Component] = []
        try:
            for component in wanted:
                if component.pid() is not None:
                    component.wait_healthy()
                    print(f"{component.name:8} already running: {component.where()}")
                    continue
                print(f"{component.name:8} starting ...", flush=True)
                component.start()
                started.append(component)
                print(f"{component.name:8} ready: {component.where()}", flush=True)
        except BaseException:
            for component in reversed(started):  # leave nothing half up
                with contextlib.suppress(Exception):
                    component.stop()
            raise
    print_uris(settings)
    return 0


def down(settings: Settings, only: list[str] | None = None) -> int:
    stack = components(settings, _known_secrets())
    with stack_lock(settings):
        for component in reversed(stack):
            if only and component.name not in only:
                continue
            was = component.pid()
            component.stop()
            print(f"{component.name:8} {'stopped' if was else 'not running'}")
        if not only:
            leftovers = marked_processes(settings.stack_dir)
            for pid in leftovers:
                print(
                    f"stopping a leftover process of the stack: {pid} {_cmdline(pid)[:80]}"
                )
                _terminate_group(pid)
            still = marked_processes(settings.stack_dir)
            if still:
                raise StackError(f"processes of the stack still run: {still}")
    return 0


def _known_secrets() -> dict[str, str] | None:
    try:
        return credentials(create=False)
    except StackError:
        return None


def status(settings: Settings) -> int:
    stack = components(settings, _known_secrets())
    all_up = True
    for component in stack:
        pid = component.pid()
        try:
            healthy = pid is not None and component.healthy()
        except StackError as error:
            healthy, note = False, f" ({error})"
        else:
            note = ""
        state = "running" if healthy else ("not answering" if pid else "stopped")
        all_up &= healthy
        shown = f" pid {pid}" if pid else ""
        print(f"{component.name:8} {state}{shown}: {component.where()}{note}")
    print_uris(settings)
    return 0 if all_up else 3


def print_uris(settings: Settings) -> None:
    print(f"MLFLOW_TRACKING_URI={settings.tracking_uri}")
    print(f"S3_ENDPOINT={settings.s3_endpoint}")
    print(f"S3_BUCKET={settings.s3_bucket}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stack", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument(
        "components",
        nargs="*",
        help=f"only these of {', '.join(COMPONENTS)} (default: all)",
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.components) - set(COMPONENTS))
    if unknown:
        parser.error(
            f"unknown component {', '.join(unknown)}: choose from {', '.join(COMPONENTS)}"
        )
    commands: dict[str, Callable[..., int]] = {"up": up, "down": down}
    try:
        settings = Settings.load()
        if args.command == "status":
            return status(settings)
        return commands[args.command](settings, args.components or None)
    except StackError as error:
        print(f"stack {args.command}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
