"""Benchmark harness: the pipelines through Kedro at several scales, against a floor.

    python benchmarks/bench.py --scales 10000,100000,1000000     (or: make bench SCALES=...)

For each scale it generates a game (two years of months), then runs
``sub_churn_standard_features``, ``sub_churn_train_from_raw``,
``sub_churn_score_from_raw`` and ``sub_churn_batch_predict`` as ``kedro run`` processes in a scratch copy of the
project, with tracking on. Per stage: wall and CPU seconds, peak RSS, input
rows, rows per second, and the fixed overhead (process start to first node).
The floor is measured in the same run: read the raw CSVs with pyarrow, sort
the currency rows by character and month, and one grouped aggregation; the
median of three, each just before one of the first three stages (the host's
speed drifts within a run); the feature stage is reported as a ratio to it.
The overhead is process start to the first node's first input load. At the smallest scale it also refreshes the
online store and serves the champion with ``kedro serve`` (what ``make serve``
runs): p50/p99 of online requests of 1 and 1,000 subscriptions against the
targets, and feature rows through ``mlflow models serve`` for comparison.
First, on the committed sample: ``kedro run`` (the whole lifecycle, what
``make run`` runs) against its 60 s target, and the feature run against the
stack floor: the whole ``kedro run`` of a bare project of the same stack
(``kedro new`` without example, kedro-mlflow on an sqlite store, one node
reading the sample's ``sub_data.csv``), built in the same run; each the
median of three, alternately; and ``kedro replay`` over the sample's last
twelve months. Every figure with a target is checked in one table at the
end; the ratios to the pandas floors are reported, not targets. Prints tables and writes JSON
(``--out``) with the machine, date and commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.csv as pv
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))
from kedro_ml.runtime import no_transparent_huge_pages  # noqa: E402
from tests.servers import free_port, model_server, running  # noqa: E402

# batch prediction reads the champion, which scoring and promotion make
STAGES = (
    "sub_churn_standard_features",
    "sub_churn_train_from_raw",
    "sub_churn_score_from_raw",
    "sub_churn_batch_predict",
)
# the stages that also run on Spark (--env=spark_env), after the pandas ones
SPARK_STAGES = ("sub_churn_standard_features", "sub_churn_batch_predict")
RAW = ("character_data.csv", "sub_data.csv", "sub_miss.csv", "character_currency.csv")
console = Console(width=140)


def _scratch_project(folder: Path) -> Path:
    """A copy of the project's config and metadata with an empty data folder."""
    project = folder / "project"
    project.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", project)
    shutil.copytree(
        ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local")
    )
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()
    return project


_FIRST_NODE = re.compile(
    r"\[1/\d+\] "
)  # the project's progress line (conf/logging.yml)


def _pipeline_started(line: str) -> bool:
    """The first node's work begins: it loads a dataset (not a parameter) or runs."""
    if "Running node" in line or _FIRST_NODE.search(line):
        return True
    if "Loading data from" not in line:
        return False
    name = line.split("Loading data from", 1)[1].split()
    return bool(name) and not name[0].startswith(("params:", "parameters"))


def run_stage(project: Path, args: list[str], command: str = "run") -> dict:
    """Run ``kedro run ARGS`` (or another project command): wall, CPU, peak RSS, fixed overhead.

    The overhead is the time from process start to the first node's first
    input load: imports, configuration, MLflow set-up and hooks, before any
    data is read.
    """
    env = {
        **os.environ,
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "COLUMNS": "200",
        "MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}",
    }
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(BIN / "kedro"), command, *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    first_node: list[float] = []
    log: list[str] = []

    def read() -> None:
        for line in process.stdout:
            log.append(line)
            if not first_node and _pipeline_started(line):
                first_node.append(time.perf_counter() - start)

    reader = threading.Thread(target=read)
    reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(
            f"kedro {command} {' '.join(args)} failed:\n{''.join(log)[-4000:]}"
        )
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "overhead_s": round(first_node[0], 2) if first_node else None,
    }


def floor(raw: Path) -> float:
    """Read the raw files with pyarrow, sort the currency rows, one grouped aggregation: seconds."""
    start = time.perf_counter()
    for name in RAW:
        if name != "character_currency.csv":
            pv.read_csv(raw / name)
    table = pv.read_csv(raw / "character_currency.csv")
    table = table.sort_by([("char_id", "ascending"), ("date", "ascending")])
    table.group_by("char_id").aggregate(
        [("soft_balance", "mean"), ("hard_balance", "max")]
    )
    pc.sum(table["sub_soft"])
    return time.perf_counter() - start


def _rows(path: Path) -> int:
    with path.open("rb") as f:
        return (
            sum(buffer.count(b"\n") for buffer in iter(lambda: f.read(1 << 24), b""))
            - 1
        )


# what a game server waits for (issue targets): one subscription, and 1,000 at once
TARGETS_MS = {
    "online_1_row": {"p50_ms": 15, "p99_ms": 40},
    "online_1000_row": {"p50_ms": 100},
}


def _latencies(port: int, body: bytes, repeats: int) -> dict:
    """p50/p99 over ``repeats`` POSTs on one kept-alive connection (after 5 warm-ups)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times = []
    try:
        for _ in range(repeats + 5):
            start = time.perf_counter()
            connection.request(
                "POST", "/invocations", body, {"Content-Type": "application/json"}
            )
            response = connection.getresponse()
            answer = response.read()
            times.append((time.perf_counter() - start) * 1000)
            if response.status != 200:
                raise RuntimeError(f"{response.status}: {answer[:300]!r}")
    finally:
        connection.close()
    times = np.array(times[5:])
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p99_ms": round(float(np.percentile(times, 99)), 1),
        "requests": repeats,
    }


def _online_bodies(project: Path) -> dict[str, bytes]:
    """Requests of 1 and 1,000 subscriptions: characters of the game, terms as sold."""
    import pandas as pd

    subs = pd.read_csv(project / "data" / "01_raw" / "sub_data.csv")
    terms = [
        "char_id",
        "sub_type",
        "sub_months",
        "sub_size",
        "price",
        "num_hard_currency",
        "num_soft_currency",
    ]
    sample = subs.sample(min(1000, len(subs)), random_state=0)[terms]
    records = json.loads(sample.to_json(orient="records"))
    return {
        "online_1_row": json.dumps({"dataframe_records": records[:1]}).encode(),
        "online_1000_row": json.dumps({"dataframe_records": records}).encode(),
    }


def serve_latency(project: Path, tmp: Path) -> dict:
    """p50/p99 of online requests through ``kedro serve`` (what ``make serve`` runs).

    Also the feature-row interface through ``mlflow models serve``, for comparison.
    """
    import mlflow
    import pandas as pd

    tracking = {"MLFLOW_TRACKING_URI": f"sqlite:///{project / 'mlflow.db'}"}
    result: dict = {
        "refresh_online_store": run_stage(
            project, ["-p", "sub_churn_refresh_online_store"]
        )
    }
    port = free_port()
    command = [str(BIN / "kedro"), "serve", "--port", str(port)]
    with running(
        command,
        f"http://127.0.0.1:{port}/ping",
        tmp / "kedro_serve.log",
        env=tracking,
        cwd=project,
    ):
        for name, body in _online_bodies(project).items():
            result[name] = _latencies(port, body, 300 if name == "online_1_row" else 40)

    client = mlflow.MlflowClient(tracking["MLFLOW_TRACKING_URI"])
    version = client.get_model_version_by_alias("sub_churn_game1", "champion")
    features = pd.read_parquet(
        project / "data" / "04_feature" / "train_features.parquet"
    )
    port = free_port()
    with model_server(
        f"models:/sub_churn_game1/{version.version}",
        port,
        tmp / "serve.log",
        env=tracking,
    ):
        for rows, repeats in ((1, 200), (1000, 30)):
            body = json.dumps(
                {
                    "dataframe_split": json.loads(
                        features.head(rows).to_json(
                            orient="split", index=False, date_format="iso"
                        )
                    )
                }
            ).encode()
            result[f"mlflow_feature_rows_{rows}_row"] = _latencies(port, body, repeats)
    result["within_targets"] = all(
        result[name][figure] <= limit
        for name, limits in TARGETS_MS.items()
        for figure, limit in limits.items()
    )
    return result


LIFECYCLE_TARGET_S = 60
FIXED_COST_TARGET_S = 3.0  # process start to the first node's first input load
SAMPLE_FEATURES_TO_STACK_FLOOR = 0.8  # whole feature run / a bare project's whole run
TRAIN_PEAK_RSS_MB = 2.5 * 1024
REPEATS = 3
FLOORS = 3  # floors per scale, one before each of the first stages; the median counts

_STACK_FLOOR_PIPELINE = """
from kedro.pipeline import Node, Pipeline


def count_rows(sub_data):
    return len(sub_data)


def register_pipelines():
    pipeline = Pipeline([Node(count_rows, "sub_data", "n_rows", name="count_rows")])
    return {"__default__": pipeline}
"""


def stack_floor_project(tmp: Path, raw: Path) -> Path:
    """A bare project of the same stack: ``kedro new``, kedro-mlflow on sqlite, one node.

    Its one node reads the sample's ``sub_data.csv``; kedro-mlflow's own hook
    tracks the run. What any Kedro project with MLflow pays for ``kedro run``.
    """
    folder = tmp / "stack_floor"
    folder.mkdir()
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    subprocess.run(
        [str(BIN / "kedro"), "new", "--name", "stack_floor", "--tools", "none"]
        + ["--example", "no", "--telemetry", "no"],
        cwd=folder,
        env=env,
        check=True,
        capture_output=True,
    )
    project = folder / "stack-floor"
    (project / "src" / "stack_floor" / "pipeline_registry.py").write_text(
        _STACK_FLOOR_PIPELINE
    )
    (project / "conf" / "base" / "catalog.yml").write_text(
        f"sub_data:\n  type: pandas.CSVDataset\n  filepath: {raw / 'sub_data.csv'}\n"
    )
    (project / "conf" / "base" / "mlflow.yml").write_text(
        f"server:\n  mlflow_tracking_uri: sqlite:///{project / 'mlflow.db'}\n"
    )
    run_stage(project, [])  # creates the store, as the project's first run does
    return project


def _median(runs: list[dict], key: str) -> float:
    return round(statistics.median(run[key] for run in runs), 2)


def sample_fixed_cost(tmp: Path) -> dict:
    """The fixed cost of a run on the committed sample, against the stack floor.

    ``kedro run -p sub_churn_standard_features`` (tracking on, the embedded
    store) and the bare project's ``kedro run``, alternately, ``REPEATS``
    times each; medians.
    """
    project = _scratch_project(tmp / "fixed_cost")
    shutil.copytree(ROOT / "data" / "01_raw", project / "data" / "01_raw")
    raw = project / "data" / "01_raw"
    bare = stack_floor_project(tmp, raw)
    run_stage(project, ["-p", "sub_churn_standard_features"])  # creates the store
    runs, floors = [], []
    for _ in range(REPEATS):
        floors.append(run_stage(bare, []))
        runs.append(run_stage(project, ["-p", "sub_churn_standard_features"]))
    result = {
        "stack_floor_s": _median(floors, "wall_s"),
        "stack_floor_runs": floors,
        "wall_s": _median(runs, "wall_s"),
        "overhead_s": _median(runs, "overhead_s"),
        "runs": runs,
    }
    result["to_stack_floor"] = round(result["wall_s"] / result["stack_floor_s"], 2)
    return result


def targets(results: dict) -> list[dict]:
    """Every figure that has a target: what it is, the figure, the limit, met or not."""
    rows = []

    def add(what: str, value: float, limit: float, unit: str = "") -> None:
        rows.append(
            {
                "target": what,
                "value": value,
                "limit": limit,
                "unit": unit,
                "met": value <= limit,
            }
        )

    life = results.get("lifecycle")
    if life:
        add(
            "lifecycle on the sample (make run), wall",
            life["wall_s"],
            LIFECYCLE_TARGET_S,
            "s",
        )
    fixed = results.get("fixed_cost")
    if fixed:
        add(
            "fixed cost of kedro run on the sample",
            fixed["overhead_s"],
            FIXED_COST_TARGET_S,
            "s",
        )
        add(
            "sample feature run / stack floor (a bare Kedro + MLflow project's run)",
            fixed["to_stack_floor"],
            SAMPLE_FEATURES_TO_STACK_FLOOR,
            "x",
        )
    trial = results.get("experiment")
    if trial:
        add(
            f"kedro experiment ({trial['candidates']} candidates) / its slowest "
            f"({trial['slowest']}) alone, one feature build each",
            trial["to_slowest_alone"],
            EXPERIMENT_TO_SLOWEST,
            "x",
        )
    if results["scales"]:
        n = max(results["scales"], key=int)
        scale = results["scales"][n]
        train = scale["sub_churn_train_from_raw"]
        add(
            f"train_from_raw peak RSS at {int(n):,}",
            train["peak_rss_mb"],
            TRAIN_PEAK_RSS_MB,
            "MB",
        )
        for stage in STAGES:
            add(
                f"{stage} fixed cost at {int(n):,}",
                scale[stage]["overhead_s"],
                FIXED_COST_TARGET_S,
                "s",
            )
    return rows


def lifecycle(tmp: Path) -> dict:
    """``kedro run`` (the whole ``__default__`` lifecycle) on the committed sample, as ``make run`` runs it."""
    project = _scratch_project(tmp / "sample")
    shutil.copytree(ROOT / "data" / "01_raw", project / "data" / "01_raw")
    result = run_stage(project, [])
    result["target_s"] = LIFECYCLE_TARGET_S
    result["within_target"] = result["wall_s"] <= LIFECYCLE_TARGET_S
    return result


# the replay: the last twelve months of the committed sample
REPLAY_MONTHS = ("2017-01-01", "2017-12-01")


def replay(tmp: Path) -> dict:
    """``kedro replay`` over twelve months of the committed sample: wall and per month."""
    project = _scratch_project(tmp / "replay")
    shutil.copytree(ROOT / "data" / "01_raw", project / "data" / "01_raw")
    first, last = REPLAY_MONTHS
    result = run_stage(project, ["--from", first, "--to", last], command="replay")
    timeline = json.loads(
        (project / "data" / "08_reporting" / "replay" / "timeline.json").read_text()
    )
    months = timeline["months"]
    plain = [m["seconds"] for m in months[1:] if not m["retrained"]]
    result.update(
        months=len(months),
        retrained=sum(m["retrained"] for m in months),
        first_month_s=months[0]["seconds"],
        month_median_s=round(statistics.median(plain), 2) if plain else None,
    )
    return result


# kedro experiment: the whole command against its slowest candidate alone
EXPERIMENT_TO_SLOWEST = 2.0


def experiment(tmp: Path) -> dict:
    """``kedro experiment`` (five candidates) on the sample, and its slowest candidate alone.

    Both after a ``kedro run`` that makes a champion (each candidate is
    compared with it). The target: the five candidates in under twice the
    time of one feature build and the slowest candidate's training and scoring.
    """
    project = _scratch_project(tmp / "experiment")
    shutil.copytree(ROOT / "data" / "01_raw", project / "data" / "01_raw")
    run_stage(project, [])
    whole = run_stage(project, [], command="experiment")
    table = (
        project / "data" / "08_reporting" / "experiments" / "candidates.csv"
    ).read_text()
    rows = [line.split(",") for line in table.splitlines()]
    header = rows[0]
    spent = {
        row[header.index("candidate")]: float(row[header.index("fit_seconds")])
        + float(row[header.index("predict_seconds")])
        for row in rows[1:]
    }
    slowest = max(spent, key=spent.get)
    alone = run_stage(project, ["--only", slowest], command="experiment")
    return {
        "candidates": len(spent),
        "wall_s": whole["wall_s"],
        "slowest": slowest,
        "slowest_alone_wall_s": alone["wall_s"],
        "to_slowest_alone": round(whole["wall_s"] / alone["wall_s"], 2),
        "fit_and_predict_s": {k: round(v, 2) for k, v in spent.items()},
    }


def _commit() -> str | None:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def spark_available() -> bool:
    """pyspark importable and a Java runtime present (``make spark-setup``)."""
    import importlib.util

    return importlib.util.find_spec("pyspark") is not None and bool(
        os.environ.get("JAVA_HOME") or shutil.which("java")
    )


def spark_costs(results: dict) -> dict | None:
    """Fixed and per-row cost of each Spark stage, from two scales (a straight line)."""
    points = {
        int(n): scale["spark"]
        for n, scale in results["scales"].items()
        if "spark" in scale
    }
    if len(points) < 2:
        return None
    small, large = min(points), max(points)
    costs = {}
    for stage in SPARK_STAGES:
        a, b = points[small][stage], points[large][stage]
        per_row = (b["wall_s"] - a["wall_s"]) / (b["rows"] - a["rows"])
        costs[stage] = {
            "fixed_s": round(a["wall_s"] - per_row * a["rows"], 2),
            "start_s": a["overhead_s"],
            "us_per_row": round(per_row * 1e6, 3),
        }
    return costs


def bench(scales: list[int], serve: bool, spark_scales: list[int] = ()) -> dict:
    # The floors run under the memory setting of the runs they are compared
    # with: every project command turns transparent huge pages off for its
    # process (kedro_ml.runtime); so does this one, for its own floors and the
    # start-floor processes it starts. (With them on here, a cold 1M floor took
    # 4.5-7.9 s on this VM against 1.4-1.8 s: a floor the runs do not pay.)
    huge_pages = "off" if no_transparent_huge_pages() else "as the host sets them"
    results = {
        "machine": {
            "transparent_huge_pages": huge_pages,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "memory_gib": round(
                os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1
            ),
        },
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "scales": {},
    }
    with (
        tempfile.TemporaryDirectory() as tmp_dir,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
        ) as progress,
    ):
        task = progress.add_task("committed sample: kedro run (lifecycle)", total=None)
        results["lifecycle"] = lifecycle(Path(tmp_dir))
        progress.update(
            task, description=f"committed sample: fixed cost, {REPEATS} runs"
        )
        results["fixed_cost"] = sample_fixed_cost(Path(tmp_dir))
        progress.update(task, description="committed sample: a 12-month replay")
        results["replay"] = replay(Path(tmp_dir))
        progress.update(task, description="committed sample: kedro experiment")
        results["experiment"] = experiment(Path(tmp_dir))
        progress.update(task, description="committed sample: done")
        for n in scales:
            project = _scratch_project(Path(tmp_dir) / str(n))
            task = progress.add_task(f"{n:,} characters: generating", total=None)
            scale = {
                "generate": run_stage(
                    project,
                    [
                        "-p",
                        "sub_churn_synthesize",
                        f"--params=synthesize.n_characters={n}",
                    ],
                )
            }
            raw = project / "data" / "01_raw"
            rows = {name: _rows(raw / name) for name in RAW}
            scale["generate"]["rows"] = sum(rows.values())
            scale["input_rows"] = rows
            floors = []
            for stage in STAGES:
                # the floor between stages: measured in the same host state
                if len(floors) < FLOORS:
                    progress.update(task, description=f"{n:,} characters: floor")
                    floors.append(floor(raw))
                progress.update(task, description=f"{n:,} characters: {stage}")
                scale[stage] = run_stage(project, ["-p", stage])
                scale[stage]["rows"] = (
                    sum(rows.values())
                    if stage != "sub_churn_batch_predict"
                    else rows["character_currency.csv"]
                )
            scale["floors_s"] = [round(f, 3) for f in floors]
            scale["floor_s"] = round(statistics.median(floors), 3)
            scale["feature_to_floor"] = round(
                scale["sub_churn_standard_features"]["wall_s"] / scale["floor_s"], 2
            )
            if n in spark_scales:
                scale["spark"] = {}
                for stage in SPARK_STAGES:
                    progress.update(
                        task, description=f"{n:,} characters: {stage} on Spark"
                    )
                    run = run_stage(project, ["--env=spark_env", "-p", stage])
                    run["rows"] = scale[stage]["rows"]
                    run["rows_per_s"] = round(run["rows"] / run["wall_s"])
                    run["to_pandas"] = round(run["wall_s"] / scale[stage]["wall_s"], 2)
                    scale["spark"][stage] = run
            if serve and n == min(scales):
                progress.update(task, description=f"{n:,} characters: serving")
                scale["serving"] = serve_latency(project, Path(tmp_dir))
            for stage in ("generate", *STAGES):
                scale[stage]["rows_per_s"] = round(
                    scale[stage]["rows"] / scale[stage]["wall_s"]
                )
            results["scales"][str(n)] = scale
            progress.update(task, description=f"{n:,} characters: done")
    results["spark_costs"] = spark_costs(results)
    results["targets"] = targets(results)
    return results


def _show_sample(results: dict) -> None:
    """The committed sample's figures: lifecycle, replay, experiment."""
    if "lifecycle" in results:
        life = results["lifecycle"]
        console.print(
            f"lifecycle on the committed sample (`make run`): {life['wall_s']} s wall, "
            f"{life['cpu_s']} s CPU, {life['overhead_s']} s before the first node; "
            f"target <= {life['target_s']} s: {'met' if life['within_target'] else 'MISSED'}"
        )
    if "replay" in results:
        rep = results["replay"]
        console.print(
            f"replay of {rep['months']} months of the committed sample (`kedro replay`): "
            f"{rep['wall_s']} s wall, {rep['first_month_s']} s for the first month (its "
            f"first model), {rep['month_median_s']} s a month after it (median), "
            f"{rep['retrained']} retraining(s)"
        )
    if "experiment" in results:
        trial = results["experiment"]
        console.print(
            f"kedro experiment, {trial['candidates']} candidates on the committed sample: "
            f"{trial['wall_s']} s wall; its slowest ({trial['slowest']}) alone "
            f"{trial['slowest_alone_wall_s']} s: {trial['to_slowest_alone']}x"
        )


def show(results: dict) -> None:
    machine = results["machine"]
    console.print(
        f"{results['date']}, commit {results['commit']}: {machine['cpus']} cores, "
        f"{machine['memory_gib']} GiB, Python {machine['python']}, {machine['platform']}; "
        f"transparent huge pages {machine.get('transparent_huge_pages', 'as the host sets them')}"
        " (runs and floors alike)"
    )
    fixed = results.get("fixed_cost")
    if fixed:
        console.print(
            f"fixed cost on the committed sample (median of {REPEATS}): {fixed['overhead_s']} s "
            f"before the first node; the feature run {fixed['wall_s']} s = "
            f"{fixed['to_stack_floor']}x the stack floor ({fixed['stack_floor_s']} s: "
            "the whole `kedro run` of a bare Kedro + kedro-mlflow project reading sub_data.csv)"
        )
    _show_sample(results)
    table = Table(title="kedro_ml benchmark")
    for column in (
        "characters",
        "stage",
        "wall s",
        "CPU s",
        "peak RSS MB",
        "rows",
        "rows/s",
        "overhead s",
    ):
        table.add_column(column, justify="right")
    for n, scale in results["scales"].items():
        for stage in ("generate", *STAGES):
            s = scale[stage]
            table.add_row(
                f"{int(n):,}",
                stage,
                str(s["wall_s"]),
                str(s["cpu_s"]),
                str(s["peak_rss_mb"]),
                f"{s['rows']:,}",
                f"{s['rows_per_s']:,}",
                str(s["overhead_s"]),
            )
        table.add_row(
            f"{int(n):,}",
            "floor (read+sort+agg)",
            str(scale["floor_s"]),
            "",
            "",
            "",
            "",
            f"features / floor = {scale['feature_to_floor']}",
        )
    console.print(table)
    show_spark(results)
    scales = list(results["scales"])
    for small, large in zip(scales, scales[1:], strict=False):
        ratio = (
            results["scales"][large]["sub_churn_train_from_raw"]["wall_s"]
            / results["scales"][small]["sub_churn_train_from_raw"]["wall_s"]
        )
        console.print(
            f"train_from_raw: {int(large):,} / {int(small):,} characters takes {ratio:.1f}x the time"
        )
    for n, scale in results["scales"].items():
        if "serving" not in scale:
            continue
        serving = scale["serving"]
        latency = Table(title=f"served model ({int(n):,}-character game), 1 worker")
        for column in ("request", "p50 ms", "p99 ms", "target"):
            latency.add_column(column, justify="right")
        for name, figures in serving.items():
            if not isinstance(figures, dict) or "p50_ms" not in figures:
                continue
            target = ", ".join(
                f"{k.split('_')[0]} <= {v}" for k, v in TARGETS_MS.get(name, {}).items()
            )
            latency.add_row(
                name, str(figures["p50_ms"]), str(figures["p99_ms"]), target
            )
        console.print(latency)
        console.print(
            f"online store refresh: {serving['refresh_online_store']['wall_s']} s; "
            f"latency targets {'met' if serving['within_targets'] else 'MISSED'}"
        )


def show_spark(results: dict) -> None:
    """The Spark path's stages beside the pandas path's, and its cost line."""
    spark = {
        n: scale["spark"] for n, scale in results["scales"].items() if "spark" in scale
    }
    if not spark:
        return
    table = Table(title="Spark path (--env=spark_env, local)")
    for column in (
        "characters",
        "stage",
        "wall s",
        "x pandas",
        "peak RSS MB",
        "rows/s",
        "start s",
    ):
        table.add_column(column, justify="right")
    for n, stages in spark.items():
        for stage, s in stages.items():
            table.add_row(
                f"{int(n):,}",
                stage,
                str(s["wall_s"]),
                str(s["to_pandas"]),
                str(s["peak_rss_mb"]),
                f"{s['rows_per_s']:,}",
                str(s["overhead_s"]),
            )
    console.print(table)
    for stage, cost in (results.get("spark_costs") or {}).items():
        console.print(
            f"{stage} on Spark: {cost['fixed_s']} s fixed (of which {cost['start_s']} s "
            f"before the first node), {cost['us_per_row']} us per raw row"
        )


def show_targets(results: dict) -> None:
    table = Table(title="against the targets")
    for column in ("target", "measured", "limit", ""):
        table.add_column(column, justify="right")
    for row in results["targets"]:
        table.add_row(
            row["target"],
            f"{row['value']} {row['unit']}",
            f"{row['limit']} {row['unit']}",
            "met" if row["met"] else "MISSED",
        )
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales",
        default="10000,100000,1000000",
        help="comma-separated numbers of characters",
    )
    parser.add_argument(
        "--out",
        default=str(ROOT / "build" / "bench.json"),
        help="where to write the JSON results",
    )
    parser.add_argument(
        "--no-serve", action="store_true", help="skip the served-model latency"
    )
    parser.add_argument(
        "--spark-scales",
        default="100000,1000000",
        help="scales (among --scales) that also run the Spark path, when it is "
        "set up (make spark-setup); '' for none",
    )
    args = parser.parse_args()
    scales = [int(s) for s in args.scales.split(",")]
    spark_scales = [int(s) for s in args.spark_scales.split(",") if s]
    if spark_scales and not spark_available():
        console.print("Spark path not set up (make spark-setup): Spark stages skipped")
        spark_scales = []
    results = bench(scales, serve=not args.no_serve, spark_scales=spark_scales)
    show(results)
    show_targets(results)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    console.print(f"results: {args.out}")


if __name__ == "__main__":
    main()
