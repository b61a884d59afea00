"""Bad raw files and bad parameters, each with what its message must say.

Shared by the in-process tests of the checks (``tests/test_bad_inputs.py``)
and the handful run end to end through ``kedro run`` (``tests/e2e/test_reliability.py``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_table(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def write_table(path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(path, index=False)


def _set(column: str, value: str, row: int = 1):
    def mutate(path: Path) -> None:
        frame = read_table(path)
        frame.loc[row, column] = value
        write_table(path, frame)

    return mutate


def _drop_column(column: str):
    return lambda path: write_table(path, read_table(path).drop(columns=column))


def _duplicate_first_row(path: Path) -> None:
    frame = read_table(path)
    write_table(path, pd.concat([frame, frame.iloc[[0]]], ignore_index=True))


def _end_before_start(path: Path, row: int = 1) -> None:
    """A run that ends the month before it starts (whatever the sample's dates)."""
    frame = read_table(path)
    start = pd.Timestamp(frame.loc[row, "start_date"])
    frame.loc[row, "end_date"] = f"{start - pd.DateOffset(months=1):%Y-%m-%d}"
    write_table(path, frame)


def _missing(path: Path) -> None:
    path.unlink()


def _empty(path: Path) -> None:
    path.write_text("")


def _header_only(path: Path) -> None:
    path.write_text(path.read_text().splitlines()[0] + "\n")


def _not_utf8(column: str, line: int = 3):
    """Put bytes that are not UTF-8 into ``column`` on ``line`` of the file."""

    def mutate(path: Path) -> None:
        lines = path.read_bytes().split(b"\n")
        header = lines[0].decode().split(",")
        fields = lines[line - 1].split(b",")
        fields[header.index(column)] = b"caf\xe9"
        lines[line - 1] = b",".join(fields)
        path.write_bytes(b"\n".join(lines))

    return mutate


def _extra_field(line: int = 3):
    def mutate(path: Path) -> None:
        lines = path.read_text().split("\n")
        lines[line - 1] += ",surplus"
        path.write_text("\n".join(lines))

    return mutate


def _duplicate_header(column: str, twice: str):
    """The header names ``twice`` where it should name ``column``."""

    def mutate(path: Path) -> None:
        lines = path.read_text().split("\n")
        lines[0] = ",".join(twice if n == column else n for n in lines[0].split(","))
        path.write_text("\n".join(lines))

    return mutate


def _blank_line(line: int = 4):
    def mutate(path: Path) -> None:
        lines = path.read_text().split("\n")
        lines.insert(line - 1, "")
        path.write_text("\n".join(lines))

    return mutate


CASES = {
    "character_data.csv": {
        "missing file": (_missing, ["character_data.csv"]),
        "missing column": (_drop_column("gender"), ["characters", "gender"]),
        "unparsable date": (
            _set("creation_date", "2017-13-45"),
            ["characters", "creation_date"],
        ),
        "text in a number": (
            _set("total_kills", "many"),
            ["characters", "total_kills", "number"],
        ),
        "duplicate key": (_duplicate_first_row, ["characters", "char_id", "duplicate"]),
        "negative amount": (
            _set("total_deaths", "-3"),
            ["characters", "total_deaths", ">= 0"],
        ),
        "empty file": (_empty, ["character_data.csv"]),
        "header only": (_header_only, ["character_data.csv", "no rows"]),
        "count overflows its type": (
            _set("total_kills", "1e300"),
            ["characters", "total_kills", "stored type int32"],
        ),
        "created in the future": (
            _set("creation_date", "2099-03-05"),
            ["characters", "creation_date", "after today"],
        ),
        "bytes not UTF-8": (
            _not_utf8("race"),
            ["character_data.csv", "line 3, column 'race'", "not UTF-8"],
        ),
        "a column named twice in the header": (
            _duplicate_header("race", "gender"),
            ["character_data.csv", "line 1 (the header)", "['gender'] more than once"],
        ),
        "a date with a time of day": (
            _set("creation_date", "2013-01-09 13:45:00"),
            ["characters", "creation_date", "line 3", "without a time of day"],
        ),
    },
    "sub_data.csv": {
        "missing file": (_missing, ["sub_data.csv"]),
        "missing column": (_drop_column("price"), ["sub_data", "price"]),
        "unparsable date": (
            _set("sub_start_date", "junk"),
            ["sub_data", "sub_start_date"],
        ),
        "text in a number": (_set("price", "ten"), ["sub_data", "price", "number"]),
        "duplicate key": (_duplicate_first_row, ["sub_data", "sub_id", "duplicate"]),
        "orphan character": (
            _set("char_id", "99999999"),
            ["sub_data", "char_id", "character_data.csv"],
        ),
        "negative amount": (_set("price", "-1"), ["sub_data", "price", ">= 0"]),
        "empty file": (_empty, ["sub_data.csv"]),
        "header only": (_header_only, ["sub_data.csv", "no rows"]),
        "infinite price": (
            _set("price", "inf"),
            ["sub_data", "price", "finite number"],
        ),
        "price left empty": (
            _set("price", ""),
            ["sub_data", "price", "must not be empty"],
        ),
        "term overflows int32": (
            _set("sub_months", "4294967295"),
            ["sub_data", "sub_months", "stored type int32"],
        ),
        "id that would wrap around": (
            _set("char_id", "4294967298"),
            ["sub_data", "char_id", "stored type int32"],
        ),
        "whole number expected": (
            _set("sub_size", "100.5"),
            ["sub_data", "sub_size", "whole number"],
        ),
        "starts before its character": (
            _set("sub_start_date", "2005-01-01"),
            ["sub_data", "sub_start_date", "creation month", "impossible_rows: drop"],
        ),
        "starts in the future": (
            _set("sub_start_date", "2099-01-01"),
            ["sub_data", "sub_start_date", "after today"],
        ),
        "unknown sub type": (
            _set("sub_type", "gold"),
            ["sub_data", "sub_type", "one of"],
        ),
        "a date with a time zone": (
            _set("sub_start_date", "2013-12-01T00:00:00+02:00"),
            ["sub_data", "sub_start_date", "line 3", "no time zone"],
        ),
        "a price that passes float64 but overflows the features": (
            _set("price", "1e308"),
            ["sub_data", "price", "line 3", "must be at most 3.40282e+38"],
        ),
        "a price so small its features overflow": (
            _set("price", "1e-320"),
            ["sub_data", "price", "line 3", "out of range"],
        ),
        "a blank line": (
            _blank_line(4),
            ["sub_data", "sub_id", "line 4", "must not be empty"],
        ),
    },
    "sub_miss.csv": {
        "missing file": (_missing, ["sub_miss.csv"]),
        "missing column": (_drop_column("end_date"), ["sub_miss", "end_date"]),
        "unparsable date": (_set("start_date", "someday"), ["sub_miss", "start_date"]),
        "text in a number": (_set("sub_id", "x"), ["sub_miss", "sub_id", "number"]),
        "orphan subscription": (
            _set("sub_id", "99999999"),
            ["sub_miss", "sub_id", "sub_data.csv"],
        ),
        "end before start": (
            _end_before_start,
            ["sub_miss", "end_date", "before start_date"],
        ),
        "empty file": (_empty, ["sub_miss.csv"]),
        "header only": (_header_only, ["sub_miss.csv", "no rows"]),
        "run ending in the future": (
            _set("end_date", "2099-01-01"),
            ["sub_miss", "end_date", "after today"],
        ),
        "a row with a surplus field": (
            _extra_field(),
            ["sub_miss.csv", "line 3: 4 fields where the header has 3"],
        ),
        "month not a first day": (
            _set("start_date", "2016-05-17"),
            ["sub_miss", "start_date", "first day of a month"],
        ),
    },
    "character_currency.csv": {
        "missing file": (_missing, ["character_currency.csv"]),
        "missing column": (
            _drop_column("soft_balance"),
            ["character_currency", "soft_balance"],
        ),
        "unparsable date": (_set("date", "2016-02-30"), ["character_currency", "date"]),
        "text in a number": (
            _set("hard_balance", "lots"),
            ["character_currency", "hard_balance", "number"],
        ),
        "duplicate key": (
            _duplicate_first_row,
            ["character_currency", "char_id, date", "duplicate"],
        ),
        "orphan character": (
            _set("char_id", "99999999"),
            ["character_currency", "char_id", "character_data.csv"],
        ),
        "negative amount": (
            _set("soft_balance", "-5"),
            ["character_currency", "soft_balance", ">= 0"],
        ),
        "empty file": (_empty, ["character_currency.csv"]),
        "header only": (_header_only, ["character_currency.csv", "no rows"]),
        "balance overflows float32": (
            _set("soft_balance", "1e300"),
            ["character_currency", "soft_balance", "stored type float32"],
        ),
        "minus infinity": (
            _set("hard_balance", "-inf"),
            ["character_currency", "hard_balance", "finite number"],
        ),
        "row dated in the future": (
            _set("date", "2099-01-01"),
            ["character_currency", "date", "after today"],
        ),
    },
}
PARAMS = [(table, case) for table, cases in CASES.items() for case in cases]


# (id, --params, pipeline, what the message says, stopped before the first node)
BAD_PARAMETERS = [
    (
        "estimator-not-allowed",
        "model.estimators.hist_gradient_boosting.type=os.system",
        "sub_churn_train_from_raw",
        [
            "model.estimators.hist_gradient_boosting.type",
            "os.system",
            "not an allowed import path",
        ],
        True,
    ),
    (
        "unknown-preset",
        "model.estimator=no_such_preset",
        "sub_churn_train_from_raw",
        ["model.estimator", "no_such_preset"],
        True,
    ),
    (
        "reversed-window",
        "train.window.date_start=2018-01-01",
        "sub_churn_train_from_raw",
        ["train.window", "date_start 2018-01-01 is after date_end"],
        True,
    ),
    (
        "unknown-key",
        "score.thresold=0.3",
        "sub_churn_score_from_raw",
        ["score.thresold", "Extra inputs are not permitted"],
        True,
    ),
    (
        "empty-window",
        "score.window.date_start=2019-01-01,score.window.date_end=2019-03-01",
        "sub_churn_score_from_raw",
        ["score.window 2019-01-01..2019-03-01 selects no subscriptions"],
        False,
    ),
    (
        "misspelt-top-level-key",
        "trian.seed=3",
        "sub_churn_train_from_raw",
        ["trian: not a parameter block", "did you mean 'train'?"],
        True,
    ),
    (
        "seed-too-large",
        "train.seed=4294967296",
        "sub_churn_train_from_raw",
        ["train.seed", "less than or equal to 4294967295"],
        True,
    ),
    (
        "seed-negative",
        "train.seed=-1",
        "sub_churn_train_from_raw",
        ["train.seed", "greater than or equal to 0"],
        True,
    ),
    (
        "training-labels-after-deployment",
        "train.label_as_of=2016-12-01",
        "sub_churn_train_from_raw",
        ["train.label_as_of", "not before score.window.date_start"],
        True,
    ),
    (
        "window-not-a-month",
        "score.window.date_start=2016-11-15",
        "sub_churn_score_from_raw",
        ["score.window.date_start", "2016-11-15 is not a month"],
        True,
    ),
    (
        "feature-window-zero",
        "features.windows_months=[0]",
        "sub_churn_train_from_raw",
        ["features.windows_months.0", "greater than or equal to 1"],
        True,
    ),
    (
        "threshold-above-one",
        "score.threshold=1.5",
        "sub_churn_score_from_raw",
        ["score.threshold", "less than or equal to 1"],
        True,
    ),
    (
        "confidence-of-one",
        "promotion.confidence=1",
        "sub_churn_score_from_raw",
        ["promotion.confidence", "less than 1"],
        True,
    ),
    (
        "leaky-feature",
        "model.accept_leaky_features=[],model.features.numeric=[kd_ratio]",
        "sub_churn_train_from_raw",
        ["model", "kd_ratio", "leak it into training"],
        True,
    ),
    (
        "unknown-model-source",
        "model_source=cloud",
        "sub_churn_batch_predict",
        ["model_source", "must be registry or local"],
        True,
    ),
    (
        "no-characters",
        "synthesize.n_characters=0",
        "sub_churn_synthesize",
        ["synthesize.n_characters", "greater than or equal to 1"],
        True,
    ),
    (
        "class-imported-by-sklearn",
        "model.estimators.logistic_regression.type=sklearn.datasets._kddcup99.GzipFile",
        "sub_churn_train_from_raw",
        ["model.estimators.logistic_regression.type", "gzip.GzipFile, defined outside"],
        True,
    ),
]
