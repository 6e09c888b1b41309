"""Evaluate the model on the held-out customers; write metrics.json."""

import argparse
import json
import math

import churn

parser = argparse.ArgumentParser()
parser.add_argument("--model", required=True)
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

with open(args.model) as f:
    model = json.load(f)
rows = churn.read_rows(args.data)
correct = 0
loss = 0.0
for r in rows:
    p = churn.predict(model, churn.features(r))
    y = int(r["churned"])
    correct += int((p >= 0.5) == (y == 1))
    p = min(max(p, 1e-9), 1 - 1e-9)
    loss -= y * math.log(p) + (1 - y) * math.log(1 - p)
metrics = {"accuracy": round(correct / len(rows), 6), "log_loss": round(loss / len(rows), 6)}
with open(args.out, "w") as f:
    json.dump(metrics, f, indent=2, sort_keys=True)
    f.write("\n")
print(f"evaluate: {len(rows)} rows: accuracy {metrics['accuracy']}, log loss {metrics['log_loss']}")
