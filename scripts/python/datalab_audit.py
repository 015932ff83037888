"""cleanlab's Datalab on the features tlrun's audit reads, for the comparison in docs/audit.md.

Reads FEATURES (raw little-endian float32, rows x dim) and META (JSON: dim, labels, paths) as
written by bench/audit-export.ts, runs Datalab twice and writes one JSON object to OUT:

- "features": find_issues(features=...) alone. Datalab then makes its own out-of-sample
  probabilities for the label check from a k-nearest-neighbour vote (k=10, the point itself
  left out) and finds near duplicates and outliers on its k-NN graph.
- "pred_probs": find_issues(features=..., pred_probs=...) with 5-fold cross-validated
  probabilities of a scikit-learn LogisticRegression on the standardised features, the input
  cleanlab's docs recommend for the label check; duplicates and outliers still use the features.
  The regularisation C is the one of 0.01, 0.1 and 1 with the best out-of-fold accuracy on the
  given labels (what a careful user would tune; the truth is never looked at).

Each run lists every example's label score (low = likely mislabelled, Datalab's own ranking),
the near-duplicate pairs it flags, the outliers it flags, and the seconds it took.

Usage: python datalab_audit.py FEATURES META OUT [--seed S]
"""
import argparse
import json
import time

import numpy as np
from cleanlab import Datalab
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ISSUE_TYPES = {"label": {}, "near_duplicate": {}, "outlier": {}}


C_GRID = (0.01, 0.1, 1.0)


def cross_validated_probs(features, labels, seed):
    """Out-of-fold probabilities of the C (of C_GRID) whose out-of-fold accuracy on the given labels is best."""
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    best = None
    for c in C_GRID:
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=1000))
        probs = cross_val_predict(probe, features, labels, cv=folds, method="predict_proba", n_jobs=2)
        accuracy = float((probs.argmax(1) == labels).mean())
        if best is None or accuracy > best[1]:
            best = (c, accuracy, probs)
    return best


def run(features, labels, pred_probs=None):
    t0 = time.perf_counter()
    lab = Datalab(data={"label": labels}, label_name="label", verbosity=0)
    kwargs = {"features": features, "issue_types": ISSUE_TYPES}
    if pred_probs is not None:
        kwargs["pred_probs"] = pred_probs
    lab.find_issues(**kwargs)
    seconds = time.perf_counter() - t0

    label = lab.get_issues("label")
    order = np.argsort(label["label_score"].to_numpy(), kind="stable")
    label_rank = [
        {"index": int(i), "score": float(label["label_score"].iat[i]), "suggested": int(label["predicted_label"].iat[i]),
         "flagged": bool(label["is_label_issue"].iat[i])}
        for i in order
    ]
    dup = lab.get_issues("near_duplicate")
    pairs = set()
    for i in np.flatnonzero(dup["is_near_duplicate_issue"].to_numpy()):
        for j in dup["near_duplicate_sets"].iat[i]:
            pairs.add((min(int(i), int(j)), max(int(i), int(j))))
    out = lab.get_issues("outlier")
    flagged = np.flatnonzero(out["is_outlier_issue"].to_numpy())
    outliers = sorted(({"index": int(i), "score": float(out["outlier_score"].iat[i])} for i in flagged), key=lambda o: o["score"])
    return {"seconds": seconds, "label_rank": label_rank, "near_duplicate_pairs": sorted(pairs), "outliers": outliers}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("features")
    ap.add_argument("meta")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with open(args.meta) as f:
        meta = json.load(f)
    labels = np.asarray(meta["labels"], dtype=np.int64)
    features = np.fromfile(args.features, dtype="<f4").reshape(len(labels), meta["dim"]).astype(np.float64)

    result = {"cleanlab": __import__("cleanlab").__version__, "sklearn": __import__("sklearn").__version__}
    result["features"] = run(features, labels)
    t0 = time.perf_counter()
    c, accuracy, probs = cross_validated_probs(features, labels, args.seed)
    probe_seconds = time.perf_counter() - t0
    result["pred_probs"] = run(features, labels, probs)
    result["pred_probs"].update({"probe_seconds": probe_seconds, "probe_accuracy": accuracy, "probe_C": c})
    with open(args.out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
