"""The Pachyderm iris tutorial's inference stage, as its Python image runs it.

Loads <modeldir>/model.pkl and, for every attributes file under <inputdir> (rows of four
measurements, no header), writes <outdir>/<its name without extension>: one predicted
species per line.

Usage: python3 /code/pyinfer.py /pfs/model/ /pfs/attributes/ /pfs/out/
"""
import argparse
import os
import pickle

import pandas as pd

parser = argparse.ArgumentParser(description="Make iris species predictions.")
parser.add_argument("modeldir", type=str, help="Directory containing the trained model")
parser.add_argument("inputdir", type=str, help="Directory containing the attributes")
parser.add_argument("outdir", type=str, help="Output directory for the predictions")
args = parser.parse_args()

features = ["Sepal_Length", "Sepal_Width", "Petal_Length", "Petal_Width"]

# load the model
with open(os.path.join(args.modeldir, "model.pkl"), "rb") as f:
    model = pickle.load(f)

# walk the input directory and make a prediction for every attributes file
for dirpath, dirs, files in os.walk(args.inputdir):
    for file in files:
        attributes = pd.read_csv(os.path.join(dirpath, file), names=features)
        predictions = model.predict(attributes)
        # one species per line, in a file named like the attributes file
        name = os.path.splitext(file)[0]
        with open(os.path.join(args.outdir, name), "w") as out:
            for species in predictions:
                out.write(species + "\n")
