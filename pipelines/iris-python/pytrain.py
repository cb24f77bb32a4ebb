"""The Pachyderm iris tutorial's training stage, as its Python image runs it.

Reads the training set (rows of four measurements and a species, no header) from
<indir>/iris.csv with pandas, fits scikit-learn's SVC(kernel='linear', C=1.0), and writes
<outdir>/model.pkl (the fitted model, pickled) and <outdir>/model.txt (its description).

Usage: python3 /code/pytrain.py /pfs/training/ /pfs/out/
"""
import argparse
import os
import pickle

import pandas as pd
from sklearn import svm

parser = argparse.ArgumentParser(description="Train a model for iris classification.")
parser.add_argument("indir", type=str, help="Input directory containing the training set")
parser.add_argument("outdir", type=str, help="Output directory for the trained model")
args = parser.parse_args()

# training set column names
cols = ["Sepal_Length", "Sepal_Width", "Petal_Length", "Petal_Width", "Species"]
features = ["Sepal_Length", "Sepal_Width", "Petal_Length", "Petal_Width"]

# import the iris training set
irisDF = pd.read_csv(os.path.join(args.indir, "iris.csv"), names=cols)

# fit the model
svc = svm.SVC(kernel="linear", C=1.0).fit(irisDF[features], irisDF["Species"])

# output a text description of the model
with open(os.path.join(args.outdir, "model.txt"), "w") as f:
    f.write(str(svc))

# save the model
with open(os.path.join(args.outdir, "model.pkl"), "wb") as f:
    pickle.dump(svc, f)
