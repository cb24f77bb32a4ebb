"""Baseline for the iris benchmarks: the iris tutorial's pyinfer.py.

Loads <model>/model.pkl and, for every file under the attributes folder (rows of four
measurements, no header), writes <out>/<name without extension> with one predicted species
per line. Usage: pyinfer.py <model folder> <attributes folder> <out folder>.
"""
import argparse
import os

import joblib
import numpy as np
import pandas as pd

COLUMNS = ["Sepal Length", "Sepal Width", "Petal Length", "Petal Width"]


def main():
    parser = argparse.ArgumentParser(description="Predict iris species")
    parser.add_argument("model", help="folder holding model.pkl")
    parser.add_argument("input", help="folder of attribute files")
    parser.add_argument("output", help="folder to write predictions to")
    args = parser.parse_args()

    model = joblib.load(os.path.join(args.model, "model.pkl"))
    os.makedirs(args.output, exist_ok=True)
    for dirpath, _dirs, files in os.walk(args.input):
        for name in sorted(files):
            attrs = pd.read_csv(os.path.join(dirpath, name), names=COLUMNS)
            predictions = model.predict(attrs)
            out = os.path.join(args.output, os.path.splitext(name)[0])
            np.savetxt(out, predictions, fmt="%s")


if __name__ == "__main__":
    main()
