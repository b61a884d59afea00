"""``score_batch`` on a hand-made batch."""

from __future__ import annotations

import pandas as pd

from kedro_ml.pipelines.sub_churn_batch_score.nodes import score_batch


def test_counts_only_subscriptions_whose_outcome_is_known():
    predictions = pd.DataFrame(
        {
            "char_id": [1, 2, 3, 4],
            "sub_id": [10, 11, 12, 13],
            "sub_churn_pred": [0.9, 0.1, 0.8, 0.5],
            "model_id": "abc",
        }
    )
    labels = pd.DataFrame(
        {
            "sub_id": [10, 11, 12, 13, 99],
            "sub_churn": pd.array([1, 0, 0, pd.NA, 1], dtype="Int8"),
            "label_state": ["settled", "settled", "settled", "unsettled", "settled"],
        }
    )
    features = pd.DataFrame(
        {"sub_id": [10, 11, 12, 13, 99], "is_first_sub": [1, 1, 0, 0, 1]}
    )
    truth = pd.DataFrame({"sub_id": [], "churn_probability": []})
    metrics, report = score_batch(predictions, labels, features, truth, 0.5, "game1")
    assert (
        metrics["n_predicted"] == 4
        and metrics["n_scored"] == 3
        and metrics["n_unsettled_excluded"] == 1
        and metrics["n_no_term_excluded"] == 0
    )
    assert metrics["roc_auc"] == 1.0  # 0.9 ranks above 0.1 and 0.8
    assert metrics["model_id"] == "abc"
    assert "General score: 1.0000 on 3 subscriptions." in report
