"""HoG speed on the whole of Fashion-MNIST (70,000 images): the features issue's target is < 30 s
on 2 cores. Prints the median of three runs for 8x8 and 4x4 cells.

    python benchmarks/features.py
"""

import statistics
import time

import numpy as np

from nnscratch import data
from nnscratch.features import hog

TARGET_SECONDS = 30.0


def main():
    images = np.concatenate([data.load("fashion-mnist")[0], data.load("fashion-mnist", "test")[0]])
    for cell in ((8, 8), (4, 4)):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            features = hog(images, cell=cell)
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        verdict = "met" if median < TARGET_SECONDS else "NOT met"
        print(f"hog, {cell[0]}x{cell[1]} cells, {len(images)} images -> {features.shape[1]} features: "
              f"median {median:.1f} s (range {min(times):.1f}-{max(times):.1f}); target < {TARGET_SECONDS:.0f} s {verdict}")


if __name__ == "__main__":
    main()
