#!/usr/bin/python3
"""Compares model outputs (.npy) with reference outputs, for the tests that
check an engine against another runtime (the TFLite engine against LiteRT.js).

    npy_compare.py (--range-tol TOL | --exact | --max-steps N [--step S]) REF GOT

REF and GOT are two .npy files, or two folders whose .npy files are paired by
name (each folder must have the same names). Every pair must have the same
shape and dtype, then:

  --range-tol TOL  max |got - ref| <= TOL * (max(ref) - min(ref)): the error
                   measured against the output's own scale, since a model's
                   outputs range from probabilities to pixel coordinates; an
                   output that is constant must match within TOL itself.
                   Non-finite values must be the same in both, in place.
  --exact          the bytes are identical (quantized models).
  --max-steps N    integer outputs differ by at most N (quantization steps),
                   float ones (dequantized) by at most N * S with --step S;
                   says how many values differ and by how many steps at most.

Prints one line per output and the worst one last; exit 0 when all match,
1 on a mismatch, 2 when something cannot be read or does not pair.
"""
import argparse
import os
import sys

import numpy as np


def die(msg):
    print("npy_compare: " + msg, file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        die("cannot read '%s': %s" % (path, e))


def pairs(ref, got):
    if os.path.isdir(ref) != os.path.isdir(got):
        die("'%s' and '%s' must both be folders or both be files" % (ref, got))
    if not os.path.isdir(ref):
        return [(os.path.basename(ref), ref, got)]
    names = {d: sorted(f for f in os.listdir(d) if f.endswith(".npy")) for d in (ref, got)}
    for a, b in ((ref, got), (got, ref)):
        extra = sorted(set(names[a]) - set(names[b]))
        if extra:
            die("'%s' has %s, '%s' does not" % (a, ", ".join(extra), b))
    if not names[ref]:
        die("no .npy files in '%s'" % ref)
    return [(n, os.path.join(ref, n), os.path.join(got, n)) for n in names[ref]]


def compare(name, r, g, tol, exact, steps, step):
    """(ok, badness, line): badness orders the outputs, worst last."""
    if r.shape != g.shape or r.dtype != g.dtype:
        return False, float("inf"), "%s: got %s %s, reference %s %s" % (
            name, g.dtype, list(g.shape), r.dtype, list(r.shape))
    if r.size == 0:
        return True, 0.0, "%s: empty, equal" % name
    if steps is not None:
        if r.dtype.kind in "iu":
            d = np.abs(g.astype(np.int64) - r.astype(np.int64))
        elif step:
            d = np.round(np.abs(g.astype(np.float64) - r.astype(np.float64)) / step).astype(np.int64)
        else:
            die("'%s' is %s: --max-steps needs --step S for float outputs" % (name, r.dtype))
        worst, n = int(d.max()), int(np.count_nonzero(d))
        ok = worst <= steps
        return ok, float(worst) / max(steps, 1) + n / d.size, \
            "%s: %d of %d values differ, by at most %d steps (limit %d): %s" % (
                name, n, d.size, worst, steps, "ok" if ok else "MISMATCH")
    if exact:
        bits = np.dtype("u%d" % r.itemsize)  # compares floats' bits, NaNs included
        diff = np.flatnonzero(r.reshape(-1).view(bits) != g.reshape(-1).view(bits))
        if diff.size == 0:
            return True, 0.0, "%s: bit-exact (%d values)" % (name, r.size)
        i = diff[0]
        return False, float(diff.size), "%s: %d of %d values differ, first at %s: got %s, reference %s" % (
            name, diff.size, r.size, np.unravel_index(i, r.shape), g.reshape(-1)[i], r.reshape(-1)[i])
    rf, gf = r.astype(np.float64), g.astype(np.float64)
    fin = np.isfinite(rf)
    same_nonfinite = np.array_equal(np.isnan(rf), np.isnan(gf)) and np.array_equal(
        np.where(np.isinf(rf), rf, 0), np.where(np.isinf(gf), gf, 0))
    if not same_nonfinite:
        return False, float("inf"), "%s: non-finite values differ from the reference's" % name
    if not fin.any():
        return True, 0.0, "%s: all non-finite, equal" % name
    span = float(rf[fin].max() - rf[fin].min())
    limit = tol * span if span > 0 else tol
    err = np.where(fin, np.abs(gf - rf), 0.0)
    i = int(np.argmax(err))
    worst = float(err.reshape(-1)[i])
    ok = worst <= limit
    return ok, worst / limit if limit > 0 else float("inf"), \
        "%s: max abs error %.3g at %s (got %.9g, reference %.9g), range %.6g, limit %.3g: %s" % (
            name, worst, tuple(int(x) for x in np.unravel_index(i, r.shape)), gf.reshape(-1)[i],
            rf.reshape(-1)[i], span, limit, "ok" if ok else "MISMATCH")


def main():
    ap = argparse.ArgumentParser(description="compare .npy outputs with reference outputs")
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--range-tol", type=float, metavar="TOL")
    how.add_argument("--exact", action="store_true")
    how.add_argument("--max-steps", type=int, metavar="N")
    ap.add_argument("--step", type=float, metavar="S")
    ap.add_argument("ref")
    ap.add_argument("got")
    a = ap.parse_args()
    if a.range_tol is not None and not a.range_tol >= 0:
        die("--range-tol must be a number >= 0")
    if a.max_steps is not None and a.max_steps < 0:
        die("--max-steps must be >= 0")
    results = []
    for name, rp, gp in pairs(a.ref, a.got):
        results.append(compare(name, load(rp), load(gp), a.range_tol, a.exact, a.max_steps, a.step))
    for ok, _, line in results:
        print(line)
    ok, _, line = max(results, key=lambda x: x[1])
    print("worst: " + line)
    sys.exit(0 if all(r[0] for r in results) else 1)


if __name__ == "__main__":
    main()
