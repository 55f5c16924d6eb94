"""Subspace alignment (Fernando, Habrard, Sebban & Tuytelaars, "Unsupervised Visual Domain
Adaptation Using Subspace Alignment", ICCV 2013): the shallow baseline of the DANN papers, applied
to the penultimate layer of a network trained on the source only.

    X_S, X_T  z-scored per domain
    P_S, P_T  the d leading PCA directions of each domain (D x d)
    M         = P_S^T P_T                    (the closed-form minimiser of ||P_S M - P_T||_F)
    source items -> X_S P_S M,  target items -> X_T P_T

then a classifier fitted on the aligned source is applied to the projected target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier


def _zscore(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (x - mean) / std


@dataclass
class SubspaceAlignment:
    """Fit on source and target features, then ``transform_source`` / ``transform_target``.

    Args:
        dim: the subspace dimension d (clipped to the number of features and items).
        seed: for PCA's randomised solver.
    """

    dim: int = 20
    seed: int = 0

    def fit(self, x_source: np.ndarray, x_target: np.ndarray) -> SubspaceAlignment:
        d = int(min(self.dim, x_source.shape[1], len(x_source), len(x_target)))
        # z-score each domain on its own statistics (Fernando et al. sec. 4); constant features keep std 1.
        self.mean_s_, self.std_s_ = x_source.mean(0), np.where(x_source.std(0) > 1e-8, x_source.std(0), 1.0)
        self.mean_t_, self.std_t_ = x_target.mean(0), np.where(x_target.std(0) > 1e-8, x_target.std(0), 1.0)
        self.P_s_ = (
            PCA(d, random_state=self.seed).fit(_zscore(x_source, self.mean_s_, self.std_s_)).components_.T
        )  # D x d
        self.P_t_ = (
            PCA(d, random_state=self.seed).fit(_zscore(x_target, self.mean_t_, self.std_t_)).components_.T
        )  # D x d
        self.M_ = self.P_s_.T @ self.P_t_  # d x d
        return self

    def transform_source(self, x: np.ndarray) -> np.ndarray:
        return _zscore(x, self.mean_s_, self.std_s_) @ self.P_s_ @ self.M_

    def transform_target(self, x: np.ndarray) -> np.ndarray:
        return _zscore(x, self.mean_t_, self.std_t_) @ self.P_t_


def subspace_alignment_accuracy(
    f_source: np.ndarray,
    y_source: np.ndarray,
    f_target: np.ndarray,
    f_target_test: np.ndarray,
    y_target_test: np.ndarray,
    dim: int = 20,
    classifier: str = "logistic",
    seed: int = 0,
) -> float:
    """Target test accuracy of subspace alignment on given features.

    Args:
        f_source, y_source: source features (N_s x D) and labels.
        f_target: unlabelled target features used to fit the target subspace.
        f_target_test, y_target_test: held-out target features and labels (evaluation only).
        dim: subspace dimension d.
        classifier: ``logistic`` (multinomial logistic regression) or ``1nn`` (the paper's 1-NN).
        seed: PCA seed.

    Returns:
        The accuracy in [0, 1].
    """
    sa = SubspaceAlignment(dim=dim, seed=seed).fit(f_source, f_target)
    clf = KNeighborsClassifier(1) if classifier == "1nn" else LogisticRegression(max_iter=2000)
    clf.fit(sa.transform_source(f_source), y_source)
    return float((clf.predict(sa.transform_target(f_target_test)) == y_target_test).mean())
