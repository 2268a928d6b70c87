"""cleanlab's find_label_issues on given out-of-sample pred_probs: reads {"labels": [...], "pred_probs": [[...]]}
as JSON on stdin, prints {"issues": [ranked row indices], "version": cleanlab's} (ranked by self-confidence,
cleanlab's default filter_by='prune_by_noise_rate'). Run with the venv that scripts/cleanlab-venv.sh makes."""
import json
import sys

import cleanlab
import numpy as np
from cleanlab.filter import find_label_issues

d = json.load(sys.stdin)
labels = np.asarray(d["labels"], dtype=int)
probs = np.asarray(d["pred_probs"], dtype=float)
probs = probs / probs.sum(axis=1, keepdims=True)
ranked = find_label_issues(labels, probs, return_indices_ranked_by="self_confidence")
print(json.dumps({"issues": [int(i) for i in ranked], "version": cleanlab.__version__}))
