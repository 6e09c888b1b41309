"""Split the customers into training and evaluation sets, by id, so that
the split never changes."""

import argparse
import csv
import os

parser = argparse.ArgumentParser()
parser.add_argument("--in", dest="src", required=True)
parser.add_argument("--train", required=True)
parser.add_argument("--test", required=True)
args = parser.parse_args()

with open(args.src, newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = list(reader)

train = [r for r in rows if int(r[0][1:]) % 4 != 0]
test = [r for r in rows if int(r[0][1:]) % 4 == 0]
for path, part in ((args.train, train), (args.test, test)):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(part)
print(f"prepare: {len(train)} rows for training, {len(test)} for evaluation")
