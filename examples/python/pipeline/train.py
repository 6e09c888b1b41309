"""Train a logistic regression by gradient descent; write model/model.json."""

import argparse
import json
import os

import churn

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

rate = float(os.environ.get("PODIUM_PARAM_LEARNING_RATE", "0.5"))
epochs = int(os.environ.get("PODIUM_PARAM_EPOCHS", "300"))

rows = churn.read_rows(args.data)
xs = [churn.features(r) for r in rows]
ys = [float(r["churned"]) for r in rows]
model = {"features": churn.FEATURES, "weights": [0.0] * len(churn.FEATURES), "bias": 0.0}
for _ in range(epochs):
    grad_w = [0.0] * len(model["weights"])
    grad_b = 0.0
    for x, y in zip(xs, ys):
        err = churn.predict(model, x) - y
        for i, v in enumerate(x):
            grad_w[i] += err * v
        grad_b += err
    n = len(xs)
    model["weights"] = [w - rate * g / n for w, g in zip(model["weights"], grad_w)]
    model["bias"] -= rate * grad_b / n

os.makedirs(args.out, exist_ok=True)
with open(os.path.join(args.out, "model.json"), "w") as f:
    json.dump(model, f, indent=2, sort_keys=True)
    f.write("\n")
print(f"train: {len(rows)} rows, {epochs} epochs, learning rate {rate}")
