/**
 * A binary linear SVM fitted as scikit-learn's `SVC` fits one: LIBSVM's SMO for C-SVC
 * (Fan, Chen and Lin, "Working set selection using second order information for training
 * support vector machines", JMLR 6, 2005), step for step in the same arithmetic. Each step
 * picks the multiplier that violates the optimality conditions most and the partner that
 * promises the largest decrease of the dual objective, moves both as far as the box [0, C]
 * allows, and updates the gradient; the fit ends when no pair violates the conditions by
 * `tol` or more (scikit-learn's `tol`, LIBSVM's `eps`). The bias is LIBSVM's `-rho`: the
 * mean over the free multipliers, or the middle of the feasible interval when none is free.
 * As in LIBSVM, kernel values are kept as 32-bit floats (its `Qfloat`).
 *
 * Left out: shrinking, which only saves time (on the iris data, leaving it out moves no
 * weight by more than 1e-12), and the kernel cache (the whole kernel is kept: m² floats).
 * Deterministic: no random choice anywhere, so the same rows give the same bits.
 *
 * The algorithm, and the rules for updating a pair of multipliers and for the bias, are
 * LIBSVM's:
 *
 * Copyright (c) 2000-2009 Chih-Chung Chang and Chih-Jen Lin
 * All rights reserved.
 *
 * Redistribution and use in source and binary forms, with or without modification, are
 * permitted provided that the following conditions are met:
 *
 * 1. Redistributions of source code must retain the above copyright notice, this list of
 * conditions and the following disclaimer.
 *
 * 2. Redistributions in binary form must reproduce the above copyright notice, this list of
 * conditions and the following disclaimer in the documentation and/or other materials
 * provided with the distribution.
 *
 * 3. Neither name of copyright holders nor the names of its contributors may be used to
 * endorse or promote products derived from this software without specific prior written
 * permission.
 *
 * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS ``AS IS'' AND ANY
 * EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF
 * MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE
 * REGENTS OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL,
 * EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF
 * SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION)
 * HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR
 * TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS
 * SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
 */

/** The SMO settings (scikit-learn's names). */
export interface SmoOptions {
  /** The box: every multiplier is in [0, C]. A finite number > 0. */
  readonly C: number;
  /** Stop when the largest violation of the optimality conditions is below this. */
  readonly tol: number;
  /** Steps after which the fit fails rather than run on. */
  readonly maxIterations: number;
}

/** A fitted binary SVM: decision = weights · x + bias, > 0 for label +1. */
export interface SmoFit {
  readonly weights: number[];
  readonly bias: number;
  /** Row numbers of the support vectors (the rows with a non-zero multiplier), in order. */
  readonly supportVectors: number[];
  /** Steps (pairs of multipliers updated) the fit took. */
  readonly iterations: number;
}

/** LIBSVM's stand-in for a quadratic coefficient that is not positive. */
const TAU = 1e-12;

/**
 * Fit rows `x` with labels +1 / -1. Throws an Error for rows and labels of different
 * lengths, fewer than 2 rows, or no convergence within `maxIterations` steps.
 */
export function smo(
  x: readonly number[][],
  labels: readonly number[],
  options: SmoOptions,
): SmoFit {
  if (x.length !== labels.length) {
    throw new Error("Features and labels should have the same length");
  }
  if (x.length < 2) throw new Error("Cannot train with less than 2 observations");
  const { C, tol } = options;
  const m = labels.length;
  const d = x[0]!.length;
  const y = Int8Array.from(labels, (label) => (label > 0 ? 1 : -1));
  // Q[i][j] = y_i y_j K(x_i, x_j), rounded to 32 bits as LIBSVM caches it; the diagonal
  // K(x_i, x_i) in full precision.
  const q = new Float32Array(m * m);
  const qd = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += x[i]![k]! * x[j]![k]!;
      q[i * m + j] = y[i]! * y[j]! * s;
      if (i === j) qd[i] = s;
    }
  }
  const alpha = new Float64Array(m);
  /** Gradient of the dual objective ½ αᵀQα − Σα: Qα − 1. */
  const g = new Float64Array(m).fill(-1);
  const atUpper = (t: number) => alpha[t]! >= C;
  const atLower = (t: number) => alpha[t]! <= 0;

  let iterations = 0;
  for (;;) {
    // i: the most violating multiplier that may move up (in y's direction).
    let gMax = -Infinity;
    let i = -1;
    for (let t = 0; t < m; t++) {
      if (y[t] === 1) {
        if (!atUpper(t) && -g[t]! >= gMax) {
          gMax = -g[t]!;
          i = t;
        }
      } else if (!atLower(t) && g[t]! >= gMax) {
        gMax = g[t]!;
        i = t;
      }
    }
    // j: among those that may move down, the one whose pairing with i lowers the objective
    // most (second-order selection); gMax2, the largest violation on that side.
    let gMax2 = -Infinity;
    let j = -1;
    let best = Infinity;
    const row = i * m;
    for (let t = 0; t < m; t++) {
      let gradDiff: number;
      let quad: number;
      if (y[t] === 1) {
        if (atLower(t)) continue;
        if (g[t]! >= gMax2) gMax2 = g[t]!;
        gradDiff = gMax + g[t]!;
        if (!(gradDiff > 0)) continue;
        quad = qd[i]! + qd[t]! - 2 * y[i]! * q[row + t]!;
      } else {
        if (atUpper(t)) continue;
        if (-g[t]! >= gMax2) gMax2 = -g[t]!;
        gradDiff = gMax - g[t]!;
        if (!(gradDiff > 0)) continue;
        quad = qd[i]! + qd[t]! + 2 * y[i]! * q[row + t]!;
      }
      const decrease = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
      if (decrease <= best) {
        j = t;
        best = decrease;
      }
    }
    if (gMax + gMax2 < tol || j === -1) break;
    if (iterations >= options.maxIterations) throw new Error("max iterations reached");
    iterations++;

    // Move alpha[i] and alpha[j] along the constraint yᵀα = 0, then back into the box.
    const oldI = alpha[i]!;
    const oldJ = alpha[j]!;
    const qij = q[row + j]!;
    if (y[i] !== y[j]) {
      let quad = qd[i]! + qd[j]! + 2 * qij;
      if (quad <= 0) quad = TAU;
      const delta = (-g[i]! - g[j]!) / quad;
      const diff = oldI - oldJ;
      alpha[i] = oldI + delta;
      alpha[j] = oldJ + delta;
      if (diff > 0) {
        if (alpha[j]! < 0) {
          alpha[j] = 0;
          alpha[i] = diff;
        }
      } else if (alpha[i]! < 0) {
        alpha[i] = 0;
        alpha[j] = -diff;
      }
      if (diff > 0) {
        if (alpha[i]! > C) {
          alpha[i] = C;
          alpha[j] = C - diff;
        }
      } else if (alpha[j]! > C) {
        alpha[j] = C;
        alpha[i] = C + diff;
      }
    } else {
      let quad = qd[i]! + qd[j]! - 2 * qij;
      if (quad <= 0) quad = TAU;
      const delta = (g[i]! - g[j]!) / quad;
      const sum = oldI + oldJ;
      alpha[i] = oldI - delta;
      alpha[j] = oldJ + delta;
      if (sum > C) {
        if (alpha[i]! > C) {
          alpha[i] = C;
          alpha[j] = sum - C;
        }
      } else if (alpha[j]! < 0) {
        alpha[j] = 0;
        alpha[i] = sum;
      }
      if (sum > C) {
        if (alpha[j]! > C) {
          alpha[j] = C;
          alpha[i] = sum - C;
        }
      } else if (alpha[i]! < 0) {
        alpha[i] = 0;
        alpha[j] = sum;
      }
    }
    const dI = alpha[i]! - oldI;
    const dJ = alpha[j]! - oldJ;
    const rowJ = j * m;
    for (let k = 0; k < m; k++) g[k] = g[k]! + (q[row + k]! * dI + q[rowJ + k]! * dJ);
  }

  // The bias: -rho, where rho is the mean of y_i g_i over the free multipliers, or the
  // middle of the interval the bounded ones leave for it.
  let upper = Infinity;
  let lower = -Infinity;
  let free = 0;
  let sumFree = 0;
  for (let t = 0; t < m; t++) {
    const yg = y[t]! * g[t]!;
    if (atUpper(t)) {
      if (y[t] === -1) upper = Math.min(upper, yg);
      else lower = Math.max(lower, yg);
    } else if (atLower(t)) {
      if (y[t] === 1) upper = Math.min(upper, yg);
      else lower = Math.max(lower, yg);
    } else {
      free++;
      sumFree += yg;
    }
  }
  const rho = free > 0 ? sumFree / free : (upper + lower) / 2;

  const supportVectors: number[] = [];
  for (let k = 0; k < m; k++) if (alpha[k] !== 0) supportVectors.push(k);
  const weights: number[] = [];
  for (let r = 0; r < d; r++) {
    let w = 0;
    for (const k of supportVectors) w += y[k]! * alpha[k]! * x[k]![r]!;
    weights.push(w);
  }
  return { weights, bias: -rho, supportVectors, iterations };
}
