"""cleanlab's Datalab on given features and out-of-sample pred_probs: reads {"labels": [...], "pred_probs": [[...]],
"features": [[...]]} as JSON on stdin, runs
Datalab(data={'label': labels}, label_name='label').find_issues(features=..., pred_probs=...,
issue_types={'label': {}, 'outlier': {}, 'near_duplicate': {}}) and prints, per issue type, the flagged rows and each
row's score (lower = more of an issue), the near-duplicate sets, and cleanlab's version. Run with the venv that
scripts/cleanlab-venv.sh makes (cleanlab[datalab]); nothing is downloaded (the Hugging Face libraries run offline)."""
import json
import os
import sys

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import cleanlab  # noqa: E402
import numpy as np  # noqa: E402
from cleanlab import Datalab  # noqa: E402

d = json.load(sys.stdin)
labels = np.asarray(d["labels"], dtype=int)
probs = np.asarray(d["pred_probs"], dtype=float)
probs = probs / probs.sum(axis=1, keepdims=True)
features = np.asarray(d["features"], dtype=np.float32)
lab = Datalab(data={"label": labels}, label_name="label", verbosity=0)
lab.find_issues(features=features, pred_probs=probs, issue_types={"label": {}, "outlier": {}, "near_duplicate": {}})


def flagged(issues, name):
    return [int(i) for i in np.flatnonzero(issues[f"is_{name}_issue"].to_numpy())]


out = {"version": cleanlab.__version__}
for name in ("label", "outlier", "near_duplicate"):
    issues = lab.get_issues(name)
    out[name] = {
        "issues": flagged(issues, name),
        "score": [float(s) for s in issues[f"{name}_score"].to_numpy()],
    }
nd = lab.get_issues("near_duplicate")
out["near_duplicate"]["sets"] = [[int(j) for j in s] for s in nd["near_duplicate_sets"]]
# The near-duplicate type reuses the outlier type's kNN graph (its own `metric` is then None): the graph's metric.
knn_metric = lab.get_info("statistics").get("knn_metric")
nd_info = lab.get_info("near_duplicate")
out["near_duplicate"]["metric"] = str(nd_info.get("metric") or knn_metric)
# Rows closer than threshold × the median nearest-neighbour distance are near duplicates.
out["near_duplicate"]["radius"] = float(nd_info["threshold"] * nd_info["median_distance_to_nearest_neighbor"])
out["outlier"]["metric"] = str(lab.get_info("outlier").get("metric") or knn_metric)
print(json.dumps(out))
