"""A lean HTTP server for the churn model: ``POST /invocations``, ``GET /ping``.

``mlflow models serve`` works with the model too; this server answers the
same JSON (``dataframe_split``, ``dataframe_records`` or ``inputs``, and
``{"predictions": [...]}`` back) with less work per request, and refuses a
bad request with a 400 whose message names the field and row, never a stack
trace or a file path. It ships with the model (``code_paths``)::

    python -m kedro_ml.serving.app --model-uri models:/sub_churn_game1@champion \
        --online-store data/04_feature/online_store.sqlite --port 5001

In the project, ``kedro serve`` (``make serve``) finds both for the game.

One process, one worker: scale by running more of them behind a proxy.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
from typing import Any

import numpy as np
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kedro_ml.serving.inputs import RequestError
from kedro_ml.serving.store import StoreError

logger = logging.getLogger(__name__)


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse(
        {"error_code": "BAD_REQUEST", "message": message}, status_code=400
    )


_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[/\\][\w.@+-]+){2,}[/\\]?")


def without_paths(message: str) -> str:
    """``message`` with the server's file paths left out: a caller learns no layout."""
    return _PATH.sub("<path on the server>", message)


def _store_unavailable(error: Exception) -> JSONResponse:
    logger.error(
        "Online store unavailable: %s", error
    )  # the full message, paths included
    return JSONResponse(
        {"error_code": "STORE_UNAVAILABLE", "message": without_paths(str(error))},
        status_code=503,
    )


def _column(values: list) -> np.ndarray:
    """One column of JSON values as an array: int64, float64 or, for anything else, object."""
    kinds = set(map(type, values))
    try:
        if kinds <= {int}:
            return np.array(values, dtype=np.int64)
        if kinds <= {int, float}:
            return np.array(values, dtype=np.float64)
    except OverflowError:
        pass  # beyond int64: left to the contract check, which names it
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def _from_records(records: list) -> dict[str, list]:
    if not all(isinstance(record, dict) for record in records):
        raise RequestError("each row must be a JSON object of field: value")
    names = list(dict.fromkeys(name for record in records for name in record))
    return {name: [record.get(name) for record in records] for name in names}


def _from_split(split: Any) -> dict[str, list]:
    if not isinstance(split, dict) or not isinstance(split.get("columns"), list):
        raise RequestError("dataframe_split needs columns: [...] and data: [[...]]")
    columns, data = split["columns"], split.get("data") or []
    if not isinstance(data, list) or not all(
        isinstance(row, list) and len(row) == len(columns) for row in data
    ):
        raise RequestError(
            f"dataframe_split: each row of data must be a list of {len(columns)} values"
        )
    if len(set(map(str, columns))) != len(columns):
        raise RequestError("dataframe_split: a column is named twice")
    values = list(zip(*data, strict=True)) if data else [[] for _ in columns]
    return dict(zip(map(str, columns), map(list, values), strict=True))


def _from_inputs(key: str, records: Any) -> dict[str, list]:
    if isinstance(records, dict):  # columns: {"char_id": [...], ...}
        if not all(isinstance(v, list) for v in records.values()) or (
            len({len(v) for v in records.values()}) > 1
        ):
            raise RequestError(f"{key}: give each column as a list of equal length")
        return {str(name): values for name, values in records.items()}
    if isinstance(records, list):
        return _from_records(records)
    raise RequestError(f"{key} must be a list of rows or an object of columns")


FORMATS = ("dataframe_split", "dataframe_records", "inputs", "instances")


def parse_request(body: bytes) -> dict[str, np.ndarray]:
    """Columns from an MLflow-style JSON body; ``RequestError`` for anything else."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise RequestError(
            f"the body is not JSON ({error.__class__.__name__})"
        ) from None
    except RecursionError:
        raise RequestError("the body is nested too deeply to be a request") from None
    if not isinstance(payload, dict):
        raise RequestError(
            'send a JSON object: {"dataframe_split": {"columns": [...], "data": [[...]]}}, '
            '{"dataframe_records": [{...}]} or {"inputs": [{...}]}'
        )
    given = [key for key in FORMATS if key in payload]
    if len(given) > 1:
        raise RequestError(
            f"the body holds {' and '.join(given)}: send the rows in one of them"
        )
    if "dataframe_split" in payload:
        table = _from_split(payload["dataframe_split"])
    else:
        key = next(
            (k for k in ("dataframe_records", "inputs", "instances") if k in payload),
            None,
        )
        if key is None:
            raise RequestError(
                "the body has none of dataframe_split, dataframe_records or inputs"
            )
        table = _from_inputs(key, payload[key])
    return {name: _column(values) for name, values in table.items()}


def to_json(answer: dict[str, np.ndarray]) -> str:
    """``{"predictions": [...]}``: one object per row, floats as Python prints them (exact)."""
    names = list(answer)
    columns = [np.asarray(answer[name]).tolist() for name in names]
    rows = [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    return json.dumps({"predictions": rows}, allow_nan=False, default=str)


def create_app(model: Any) -> Starlette:
    """The ASGI app around a loaded ``ChurnModel`` (anything with ``answer(rows)``)."""

    async def invocations(request: Request) -> Response:
        if request.headers.get("content-type", "").split(";")[0].strip() not in (
            "application/json",
            "",
        ):
            return JSONResponse(
                {"error_code": "BAD_REQUEST", "message": "send application/json"},
                status_code=415,
            )
        try:
            rows = parse_request(await request.body())
            answer = model.answer(rows)
        except RequestError as error:
            return _bad_request(without_paths(str(error)))
        except StoreError as error:
            return _store_unavailable(error)
        except Exception:  # noqa: BLE001 - logged here, never sent to the caller
            logger.exception("Prediction failed")
            return JSONResponse(
                {
                    "error_code": "INTERNAL_ERROR",
                    "message": "the prediction failed; see the server log",
                },
                status_code=500,
            )
        return Response(to_json(answer), media_type="application/json")

    async def ping(request: Request) -> Response:
        return PlainTextResponse("\n")

    async def health(request: Request) -> Response:
        # ready to answer: where an online store is configured, it opens and fits
        # the model (/ping only says the process is up)
        from kedro_ml.serving.model import STORE_ENV

        if os.environ.get(STORE_ENV) and hasattr(type(model), "store"):
            try:
                model.store  # noqa: B018 - opening and checking it is the point
            except StoreError as error:
                return _store_unavailable(error)
        return PlainTextResponse("\n")

    return Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
        ]
    )


def load(model_uri: str) -> Any:
    """The ``ChurnModel`` behind an MLflow model URI, its files checked against their digests.

    Loaded with this package's code, never with code from the artifact store
    (``kedro_ml.serving.integrity``).
    """
    from kedro_ml.serving.integrity import load_verified

    return load_verified(model_uri)


def serve(model: Any, host: str = "127.0.0.1", port: int = 5001) -> None:
    """Serve ``model`` on ``host:port`` until stopped (one process, one worker)."""
    import uvicorn

    uvicorn.run(create_app(model), host=host, port=port, workers=1, log_level="warning")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model-uri", required=True, help="e.g. models:/sub_churn_game1@champion"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--online-store",
        default=None,
        help="the online store's file (or KEDRO_ML_ONLINE_STORE); online requests need it",
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="the most rows a request may hold (default 10000, or KEDRO_ML_MAX_ROWS)",
    )
    args = parser.parse_args(argv)
    # the server's own lines (the unknown-character share per refresh of the store)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("kedro_ml").setLevel(logging.INFO)
    if args.max_rows is not None:
        os.environ["KEDRO_ML_MAX_ROWS"] = str(args.max_rows)
    if args.online_store:
        os.environ["KEDRO_ML_ONLINE_STORE"] = args.online_store
    serve(load(args.model_uri), args.host, args.port)


if __name__ == "__main__":
    main()
