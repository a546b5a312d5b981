"""Distances behind the few-shot metrics (numpy/torch only, no OpenMMLab).

* :func:`frechet_distance` -- FID between two Gaussians fitted to features,
  with an eigen-decomposition based trace of the matrix square root (stable
  for the rank-deficient covariances of small per-class sets).
* :func:`mmd2_unbiased`, :func:`kid_subsets` -- KID: the unbiased MMD^2
  estimate with the cubic polynomial kernel ``(x.y / d + 1) ** 3``, averaged
  over random subsets like Binkowski et al. (2018).
* :func:`pairwise_lpips_like` -- LPIPS-style distances between all pairs of
  a set from multi-layer features.
* :func:`nearest_class_mean_predict` -- a nearest-class-mean classifier on
  unit-normalised features, with a leave-one-out variant.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch


def _as_f64(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f'features must be [N, D], got shape {x.shape}')
    return x


def mean_cov(features) -> Tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased, ``N - 1``) covariance of ``[N, D]`` features.

    Args:
        features (np.ndarray | Tensor): ``[N, D]``, ``N >= 2``.

    Returns:
        Tuple[np.ndarray, np.ndarray]: ``[D]`` mean and ``[D, D]`` covariance.
    """
    x = _as_f64(features)
    if x.shape[0] < 2:
        raise ValueError('need at least 2 feature vectors for a covariance, '
                         f'got {x.shape[0]}')
    return x.mean(0), np.cov(x, rowvar=False)


def _sqrt_psd(mat: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric PSD matrix via ``eigh``."""
    vals, vecs = np.linalg.eigh((mat + mat.T) / 2.0)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray) -> float:
    """Frechet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))``, where
    ``tr((S1 S2)^(1/2)) = sum(sqrt(eig(S1^(1/2) S2 S1^(1/2))))`` (a
    symmetric PSD matrix, so no complex round-off as with ``sqrtm``).

    Args:
        mu1 (np.ndarray): ``[D]`` mean of the first set.
        sigma1 (np.ndarray): ``[D, D]`` covariance of the first set.
        mu2 (np.ndarray): ``[D]`` mean of the second set.
        sigma2 (np.ndarray): ``[D, D]`` covariance of the second set.

    Returns:
        float: The distance (>= 0 up to round-off; clipped at 0).
    """
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    root1 = _sqrt_psd(sigma1)
    inner = root1 @ sigma2 @ root1
    eig = np.linalg.eigvalsh((inner + inner.T) / 2.0)
    tr_covmean = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    fid = float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) -
                2.0 * tr_covmean)
    return max(fid, 0.0)


def fid_from_features(feat1, feat2) -> float:
    """FID between two ``[N, D]`` feature sets (see :func:`frechet_distance`).

    Args:
        feat1 (np.ndarray | Tensor): First set, ``N1 >= 2``.
        feat2 (np.ndarray | Tensor): Second set, ``N2 >= 2``.

    Returns:
        float: The FID.
    """
    return frechet_distance(*mean_cov(feat1), *mean_cov(feat2))


def polynomial_kernel(x: np.ndarray,
                      y: np.ndarray,
                      degree: int = 3,
                      gamma: Optional[float] = None,
                      coef0: float = 1.0) -> np.ndarray:
    """``(gamma * x @ y.T + coef0) ** degree``; ``gamma`` defaults to 1/D.

    Args:
        x (np.ndarray): ``[N, D]``.
        y (np.ndarray): ``[M, D]``.
        degree (int): Polynomial degree. Defaults to 3 (KID).
        gamma (float, optional): Scale; ``1 / D`` when None.
        coef0 (float): Offset. Defaults to 1.

    Returns:
        np.ndarray: ``[N, M]`` kernel matrix.
    """
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    return (gamma * (x @ y.T) + coef0)**degree


def mmd2_unbiased(x,
                  y,
                  degree: int = 3,
                  gamma: Optional[float] = None,
                  coef0: float = 1.0) -> float:
    """Unbiased MMD^2 estimate between samples ``x`` and ``y``.

    ``sum_{i!=j} k(x_i,x_j) / (m(m-1)) + sum_{i!=j} k(y_i,y_j) / (n(n-1))
    - 2 sum_{i,j} k(x_i,y_j) / (mn)`` with the polynomial kernel. Its
    expectation is 0 when both samples come from one distribution (it can
    be negative).

    Args:
        x (np.ndarray | Tensor): ``[m, D]``, ``m >= 2``.
        y (np.ndarray | Tensor): ``[n, D]``, ``n >= 2``.
        degree (int): Kernel degree. Defaults to 3.
        gamma (float, optional): Kernel scale; ``1 / D`` when None.
        coef0 (float): Kernel offset. Defaults to 1.

    Returns:
        float: The estimate.
    """
    x, y = _as_f64(x), _as_f64(y)
    m, n = x.shape[0], y.shape[0]
    if m < 2 or n < 2:
        raise ValueError(f'KID needs >= 2 samples per set, got {m} and {n}')
    kxx = polynomial_kernel(x, x, degree, gamma, coef0)
    kyy = polynomial_kernel(y, y, degree, gamma, coef0)
    kxy = polynomial_kernel(x, y, degree, gamma, coef0)
    term_x = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    term_y = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return float(term_x + term_y - 2.0 * kxy.mean())


def kid_subsets(x,
                y,
                num_subsets: int = 100,
                subset_size: int = 1000,
                seed: int = 0,
                **kernel) -> Tuple[float, float]:
    """KID as in the KID paper: mean and std of :func:`mmd2_unbiased` over
    ``num_subsets`` random subsets of ``subset_size`` from each set.

    The subset size is capped at the smaller set; where it then covers both
    sets completely one estimate on the full sets is returned (std 0).

    Args:
        x (np.ndarray | Tensor): ``[m, D]`` (e.g. generated).
        y (np.ndarray | Tensor): ``[n, D]`` (e.g. real).
        num_subsets (int): Number of subsets. Defaults to 100.
        subset_size (int): Images per subset. Defaults to 1000.
        seed (int): Seed of the subset draws.
        **kernel: ``degree``, ``gamma``, ``coef0`` of the kernel.

    Returns:
        Tuple[float, float]: Mean and standard deviation over subsets.
    """
    x, y = _as_f64(x), _as_f64(y)
    size = int(min(subset_size, x.shape[0], y.shape[0]))
    if size == x.shape[0] == y.shape[0]:
        return mmd2_unbiased(x, y, **kernel), 0.0
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(int(num_subsets)):
        xi = x[rng.choice(x.shape[0], size, replace=False)]
        yi = y[rng.choice(y.shape[0], size, replace=False)]
        vals.append(mmd2_unbiased(xi, yi, **kernel))
    return float(np.mean(vals)), float(np.std(vals))


def normalize_channels(feat: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """Unit-normalise ``[N, C, H, W]`` features over channels (LPIPS)."""
    norm = torch.sqrt(torch.sum(feat**2, dim=1, keepdim=True))
    return feat / (norm + eps)


def pairwise_lpips_like(layers: Sequence[torch.Tensor]) -> torch.Tensor:
    """LPIPS-style distances between all pairs of ``N`` images.

    For every layer the features are unit-normalised over channels; the
    distance of images ``i, j`` on a layer is the squared difference summed
    over channels and averaged over positions; distances are averaged over
    layers (no learned weights: LPIPS's "baseline" variant). Values lie in
    ``[0, 4]``.

    Args:
        layers (Sequence[Tensor]): Per layer ``[N, C, H, W]`` (or ``[N, D]``)
            features of the same ``N`` images.

    Returns:
        Tensor: ``[N, N]`` float64 distances (0 on the diagonal).
    """
    total: Optional[torch.Tensor] = None
    for feat in layers:
        feat = feat.detach().to(torch.float64)
        if feat.ndim == 2:
            feat = feat[:, :, None, None]
        feat = normalize_channels(feat)
        n, _, h, w = feat.shape
        flat = feat.reshape(n, -1)
        sq = (flat**2).sum(1)
        dist = (sq[:, None] + sq[None, :] - 2.0 * flat @ flat.T) / (h * w)
        dist = dist.clamp_min(0.0)
        dist.fill_diagonal_(0.0)
        total = dist if total is None else total + dist
    if total is None:
        raise ValueError('pairwise_lpips_like: no layers')
    return total / len(layers)


def mean_pairwise(dist: torch.Tensor) -> float:
    """Mean of the off-diagonal entries of a square distance matrix."""
    n = dist.shape[0]
    if n < 2:
        return float('nan')
    return float((dist.sum() - dist.diagonal().sum()) / (n * (n - 1)))


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)


def class_means(features: Dict[int,
                               np.ndarray]) -> Tuple[List[int], np.ndarray]:
    """Means of the unit-normalised features of each class.

    Args:
        features (Dict[int, np.ndarray]): ``[N_c, D]`` per class id.

    Returns:
        Tuple[List[int], np.ndarray]: Class ids and ``[num_classes, D]``.
    """
    ids = sorted(features)
    return ids, np.stack([_unit(_as_f64(features[c])).mean(0) for c in ids])


def nearest_class_mean_predict(features, ids: Sequence[int],
                               means: np.ndarray) -> np.ndarray:
    """Class id of the nearest class mean (Euclidean, unit-norm features).

    Args:
        features (np.ndarray | Tensor): ``[N, D]``.
        ids (Sequence[int]): Class ids of the rows of ``means``.
        means (np.ndarray): ``[num_classes, D]`` from :func:`class_means`.

    Returns:
        np.ndarray: ``[N]`` predicted class ids.
    """
    x = _unit(_as_f64(features))
    dist = ((x[:, None, :] - means[None])**2).sum(-1)
    return np.asarray(ids)[dist.argmin(1)]


def nearest_class_mean_loo(features: Dict[int,
                                          np.ndarray]) -> Dict[int, float]:
    """Leave-one-out accuracy of the nearest-class-mean classifier.

    Each image is classified with its own class's mean recomputed without
    it (classes with one image cannot be scored and are skipped).

    Args:
        features (Dict[int, np.ndarray]): ``[N_c, D]`` per class id.

    Returns:
        Dict[int, float]: Accuracy per scored class.
    """
    ids, means = class_means(features)
    ids_arr = np.asarray(ids)
    acc: Dict[int, float] = {}
    for pos, cls in enumerate(ids):
        x = _unit(_as_f64(features[cls]))
        n = x.shape[0]
        if n < 2:
            continue
        own = (means[pos][None] * n - x) / (n - 1)  # mean without image i
        dist = ((x[:, None, :] - means[None])**2).sum(-1)
        dist[:, pos] = ((x - own)**2).sum(-1)
        acc[cls] = float((ids_arr[dist.argmin(1)] == cls).mean())
    return acc
