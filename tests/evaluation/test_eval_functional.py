"""Distances of the few-shot metrics against known cases."""
import itertools

import numpy as np
import pytest
import torch

from metagan_mm.evaluation import functional as fn


def test_fid_self_zero_and_shift_large():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 32))
    b = rng.normal(size=(400, 32)) * 1.5 + 1.0
    far = fn.fid_from_features(a, b)
    assert fn.fid_from_features(a, a) < 1e-3 * far
    assert fn.fid_from_features(a, a) < 1e-8 * np.trace(np.cov(a.T))
    assert far > 30


def test_fid_matches_scipy_sqrtm():
    from scipy import linalg
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 16))
    b = rng.normal(size=(300, 16)) @ rng.normal(size=(16, 16)) * 0.3 + 0.2
    m1, s1 = a.mean(0), np.cov(a, rowvar=False)
    m2, s2 = b.mean(0), np.cov(b, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    ref = ((m1 - m2)**2).sum() + np.trace(s1 + s2 - 2 * covmean)
    assert fn.fid_from_features(a, b) == pytest.approx(ref, rel=1e-6)


def test_fid_rank_deficient_per_class_sets():
    """Fewer images than dimensions (per-class FID) stays finite."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(8, 64)), rng.normal(size=(8, 64))
    value = fn.fid_from_features(a, b)
    assert np.isfinite(value) and value > 0
    assert fn.fid_from_features(a, a) == pytest.approx(0, abs=1e-6)


def test_mmd2_unbiased_hand_computed():
    x = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    y = np.array([[0.5, -1.0], [2.0, 0.0]])

    def k(u, v):
        return (np.dot(u, v) / 2 + 1)**3

    kxx = sum(k(x[i], x[j]) for i in range(3) for j in range(3) if i != j)
    kyy = sum(k(y[i], y[j]) for i in range(2) for j in range(2) if i != j)
    kxy = sum(k(a, b) for a, b in itertools.product(x, y))
    expected = kxx / 6 + kyy / 2 - 2 * kxy / 6
    assert fn.mmd2_unbiased(x, y) == pytest.approx(expected, rel=1e-12)
    # a full-size "subset" is the single full-set estimate
    assert fn.kid_subsets(x[:2], y, 10, 5)[0] == pytest.approx(
        fn.mmd2_unbiased(x[:2], y), rel=1e-12)


def test_kid_unbiased_on_equal_gaussians():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3000, 16))
    y = rng.normal(size=(3000, 16))
    mean, std = fn.kid_subsets(x, y, num_subsets=200, subset_size=100)
    # unbiased: ~0 within the subset noise (biased MMD^2 would be > 0.01)
    assert abs(mean) < 4 * std / np.sqrt(200)
    shifted, _ = fn.kid_subsets(x, y + 0.5, num_subsets=200, subset_size=100)
    assert shifted > 20 * abs(mean) and shifted > 0.05
    again = fn.kid_subsets(x, y, num_subsets=200, subset_size=100)
    assert again == (mean, std)  # seeded


def test_pairwise_lpips_like_matches_brute_force():
    gen = torch.Generator().manual_seed(0)
    layers = [
        torch.randn(4, 5, 3, 3, generator=gen),
        torch.randn(4, 7, 2, 2, generator=gen)
    ]
    dist = fn.pairwise_lpips_like(layers)
    for i, j in itertools.product(range(4), range(4)):
        per_layer = []
        for feat in layers:
            f = fn.normalize_channels(feat.double())
            per_layer.append(((f[i] - f[j])**2).sum(0).mean())
        assert float(dist[i, j]) == pytest.approx(
            float(sum(per_layer) / 2), abs=1e-10)
    same = fn.pairwise_lpips_like([layers[0][:1].repeat(5, 1, 1, 1)])
    assert fn.mean_pairwise(same) == pytest.approx(0.0, abs=1e-12)


def test_nearest_class_mean_and_leave_one_out():
    rng = np.random.default_rng(4)
    centers = rng.normal(size=(3, 8)) * 5
    feats = {c: centers[c] + rng.normal(size=(10, 8)) * 0.1 for c in range(3)}
    ids, means = fn.class_means(feats)
    pred = fn.nearest_class_mean_predict(feats[2], ids, means)
    assert (pred == 2).all()
    assert fn.nearest_class_mean_loo(feats) == {0: 1.0, 1: 1.0, 2: 1.0}
