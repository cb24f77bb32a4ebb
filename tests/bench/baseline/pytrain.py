"""Baseline for the iris benchmarks: the iris tutorial's pytrain.py.

Trains scikit-learn's SVC(kernel='linear', C=1.0) on every *.csv of the training folder
(rows of four measurements and a species, no header) and saves the fitted model with
joblib as <out>/model.pkl. Usage: pytrain.py <training folder> <out folder>.
"""
import argparse
import os

import joblib
import pandas as pd
from sklearn import svm

COLUMNS = ["Sepal Length", "Sepal Width", "Petal Length", "Petal Width", "Species"]


def main():
    parser = argparse.ArgumentParser(description="Train an iris SVM")
    parser.add_argument("input", help="folder holding iris.csv")
    parser.add_argument("output", help="folder to write model.pkl to")
    args = parser.parse_args()

    names = sorted(n for n in os.listdir(args.input) if n.endswith(".csv"))
    iris = pd.concat(
        [pd.read_csv(os.path.join(args.input, n), names=COLUMNS) for n in names],
        ignore_index=True,
    )
    features = iris.drop(columns=["Species"])
    targets = iris["Species"]
    model = svm.SVC(kernel="linear", C=1.0).fit(features, targets)
    os.makedirs(args.output, exist_ok=True)
    joblib.dump(model, os.path.join(args.output, "model.pkl"))


if __name__ == "__main__":
    main()
