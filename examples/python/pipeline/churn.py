"""Shared code of the churn example's steps: reading the data and the
logistic regression model. Standard library only."""

import csv
import math

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "plan_basic", "plan_pro"]


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def features(row):
    """The model's inputs for one customer, scaled to about [0, 1]."""
    return [
        float(row["tenure_months"]) / 72.0,
        float(row["monthly_charges"]) / 120.0,
        float(row["support_calls"]) / 9.0,
        1.0 if row["plan"] == "basic" else 0.0,
        1.0 if row["plan"] == "pro" else 0.0,
    ]


def sigmoid(z):
    if z < -60:
        return 0.0
    if z > 60:
        return 1.0
    return 1.0 / (1.0 + math.exp(-z))


def predict(model, x):
    z = model["bias"] + sum(w * v for w, v in zip(model["weights"], x))
    return sigmoid(z)
