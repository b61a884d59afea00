"""A lean HTTP server for the churn model: ``POST /invocations``, ``GET /ping``.

``mlflow models serve`` works with the model too; this server answers the
same JSON (``dataframe_split``, ``dataframe_records`` or ``inputs``, and
``{"predictions": [...]}`` back) with less work per request, and refuses a
bad request with a 400 whose message names the field and row, never a stack
trace or a file path. It ships with the model (``code_paths``)::

    python -m kedro_ml.serving.app --model-uri models:/sub_churn_game1@champion --port 5001

One process, one worker: scale by running more of them behind a proxy.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Any

import pandas as pd
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kedro_ml.serving.inputs import RequestError

logger = logging.getLogger(__name__)


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse(
        {"error_code": "BAD_REQUEST", "message": message}, status_code=400
    )


def parse_request(body: bytes) -> pd.DataFrame:
    """Rows from an MLflow-style JSON body; ``RequestError`` for anything else."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise RequestError(
            f"the body is not JSON ({error.__class__.__name__})"
        ) from None
    if not isinstance(payload, dict):
        raise RequestError(
            'send a JSON object: {"dataframe_split": {"columns": [...], "data": [[...]]}}, '
            '{"dataframe_records": [{...}]} or {"inputs": [{...}]}'
        )
    try:
        if "dataframe_split" in payload:
            split = payload["dataframe_split"]
            return pd.DataFrame(split.get("data") or [], columns=split.get("columns"))
        for key in ("dataframe_records", "inputs", "instances"):
            if key in payload:
                records = payload[key]
                if isinstance(records, dict):
                    return pd.DataFrame(records)
                return pd.DataFrame.from_records(records or [])
    except (AttributeError, TypeError, ValueError) as error:
        raise RequestError(f"the rows cannot be read as a table: {error}") from None
    raise RequestError(
        "the body has none of dataframe_split, dataframe_records or inputs"
    )


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
            return _bad_request(str(error))
        except Exception:  # noqa: BLE001 - logged here, never sent to the caller
            logger.exception("Prediction failed")
            return JSONResponse(
                {
                    "error_code": "INTERNAL_ERROR",
                    "message": "the prediction failed; see the server log",
                },
                status_code=500,
            )
        return Response(
            '{"predictions": '
            + answer.to_json(orient="records", double_precision=15)
            + "}",
            media_type="application/json",
        )

    async def ping(request: Request) -> Response:
        return PlainTextResponse("\n")

    return Starlette(
        routes=[
            Route("/invocations", invocations, methods=["POST"]),
            Route("/ping", ping, methods=["GET"]),
            Route("/health", ping, methods=["GET"]),
        ]
    )


def load(model_uri: str) -> Any:
    """The ``ChurnModel`` behind an MLflow model URI."""
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(model_uri).unwrap_python_model()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--model-uri", required=True, help="e.g. models:/sub_churn_game1@champion"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="the most rows a request may hold (default 10000, or KEDRO_ML_MAX_ROWS)",
    )
    args = parser.parse_args(argv)
    if args.max_rows is not None:
        os.environ["KEDRO_ML_MAX_ROWS"] = str(args.max_rows)
    import uvicorn

    app = create_app(load(args.model_uri))
    uvicorn.run(app, host=args.host, port=args.port, workers=1, log_level="warning")


if __name__ == "__main__":
    main()
