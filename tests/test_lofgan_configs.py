"""LoFGAN's 128x128 configs (Flowers, Animal Faces, VGGFace) and their
evaluation protocol: pooled FID, 3-shot sets drawn per generation from a
seeded pool, LPIPS within a class. The arrays and weight files here are
tiny stand-ins written by the tests (random weights in the real layouts;
Inception fed 75x75 instead of 299x299 to keep it cheap).
Reproducible shot sets are tested on the model; one test run per config."""
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from training_helpers import (REPO_ROOT, assert_trained, train_in_process,
                              write_lpips_files)

import metagan_mm  # noqa: F401
from metagan_mm.registry import METRICS, MODELS

FUSION = osp.join(REPO_ROOT, 'configs', 'fusion')
#: config -> (LoFGAN's file name, seen classes, pool per unseen class,
#: stored as [0, 1] floats)
LOFGAN_CONFIGS = {
    'fusion_local-fusion_1xb8-100kiters_flowers-128x128.py':
    ('flower_c8189_s128_data_rgb.npy', 85, 10, False),
    'fusion_local-fusion_1xb8-100kiters_animal-faces-128x128.py':
    ('animal_128.npy', 119, 10, False),
    'fusion_local-fusion_1xb16-100kiters_vggface-128x128.py':
    ('vgg_face_data_rgb.npy', 1802, 30, True),
}


@pytest.mark.parametrize('config', list(LOFGAN_CONFIGS))
def test_config_has_lofgan_protocol(config):
    npy, seen, pool, _ = LOFGAN_CONFIGS[config]
    cfg = Config.fromfile(osp.join(FUSION, config))
    train_set = cfg.train_dataloader.dataset
    test_set = cfg.test_dataloader.dataset
    for dataset in (train_set.dataset, test_set.dataset):
        assert dataset.npy_file == npy and dataset.split.first_n == seen
    assert train_set.k_shot == 3 and test_set.k_shot == pool
    assert cfg.train_dataloader.batch_size == (16 if pool == 30 else 8)
    assert cfg.model.num_classes == seen
    assert cfg.model.generator.base_channels == 32
    assert cfg.model.discriminator.base_channels == 64
    assert cfg.model.fewshot_shots == 3
    assert cfg.train_cfg.max_iters == 100000
    assert cfg.param_scheduler[0].begin == 50000
    assert cfg.test_cfg.num_samples == 128 and cfg.test_cfg.steps == 0
    fid, lpips = cfg.test_evaluator
    assert fid.type == 'FewShotFID' and not fid.per_class
    assert lpips.type == 'FewShotLPIPS'
    assert lpips.resize == 32 and lpips.lofgan_rescale


def test_pooled_fid_is_not_the_mean_of_class_fids():
    """Swap two classes' generations: the pooled sets are equal (FID 0)
    while each class is far from its references."""
    rng = np.random.default_rng(0)
    near = torch.tensor(rng.normal(0, 1, (40, 1, 1, 2)), dtype=torch.float32)
    far = near + 5.0
    metric = METRICS.build(
        dict(type='FewShotFID', feature_net=nn.Flatten(), device='cpu'))
    metric.process({}, [
        dict(class_idx=0, class_name='a', fake=far, real=near),
        dict(class_idx=1, class_name='b', fake=near, real=far)
    ])
    out = metric.evaluate(2)
    assert out['fewshot/fid'] == pytest.approx(0.0, abs=1e-6)
    assert out['fewshot/fid_class_mean'] == pytest.approx(50.0, rel=1e-6)


def fusion_model(fewshot_shots=3):
    cfg = Config.fromfile(
        osp.join(FUSION, 'fusion_local-fusion_1xb8-100kiters_flowers-'
                 '128x128.py'))
    cfg.merge_from_dict({
        'model.generator.base_channels': 4,
        'model.discriminator.base_channels': 4,
        'model.fewshot_shots': fewshot_shots
    })
    init_default_scope(cfg.default_scope)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def test_each_generation_fuses_a_seeded_random_3_shot_set():
    model = fusion_model()
    pool = torch.arange(10.).view(10, 1, 1, 1).expand(10, 3, 128, 128)
    sets = model.shot_sets(pool, 128, seed=7)
    assert sets.shape == (128, 3, 3, 128, 128)
    index = sets[:, :, 0, 0, 0].long()
    assert torch.equal(model.shot_sets(pool, 128, seed=7), sets)
    assert not torch.equal(model.shot_sets(pool, 128, seed=8), sets)
    assert set(index.flatten().tolist()) == set(range(10))
    assert len({tuple(row) for row in index.tolist()}) > 100
    # drawn with replacement, as LoFGAN's np.random.choice(10, 3)
    assert any(len(set(row)) < 3 for row in index.tolist())
    # a support of K <= fewshot_shots images: every generation fuses all
    assert torch.equal(
        model.shot_sets(pool[:3], 5, seed=7),
        pool[:3][None].expand(5, 3, 3, 128, 128))
    # generation is reproducible from the seed and differs across seeds
    images = torch.rand(10, 3, 128, 128) * 2 - 1
    first = model.generate_adapted(images, 4, steps=0, seed=3)
    assert torch.equal(first, model.generate_adapted(images, 4, 0, 3))
    assert not torch.equal(first, model.generate_adapted(images, 4, 0, 4))
    with pytest.raises(ValueError, match='fewshot_shots must be at least 1'):
        fusion_model(fewshot_shots=0)


@pytest.fixture(scope='module')
def weight_files(tmp_path_factory):
    """Random Inception (pytorch-fid layout) and LPIPS files."""
    from metagan_mm.evaluation.feature_nets import \
        inception_feature_extractor as inception
    folder = tmp_path_factory.mktemp('weights')
    torch.manual_seed(0)
    path = str(folder / 'pt_inception-2015-12-05-6726825d.pth')
    torch.save(inception._build_inception('pytorch_fid').state_dict(), path)
    vgg, lin = write_lpips_files(folder)
    return dict(
        METAGAN_INCEPTION=path, METAGAN_LPIPS_VGG16=vgg, METAGAN_LPIPS_LIN=lin)


def write_lofgan_array(root, name, images, as_float):
    """A LoFGAN-layout array [6 classes, images, 128, 128, 3]."""
    root.mkdir()
    rng = np.random.default_rng(0)
    array = rng.integers(0, 256, (6, images, 128, 128, 3), dtype=np.uint8)
    if as_float:  # LoFGAN's VGGFace array holds [0, 1] floats
        array = (array / 255).astype(np.float16)
    np.save(root / name, array)


@pytest.mark.slow
@pytest.mark.parametrize('config', list(LOFGAN_CONFIGS))
def test_config_trains_and_tests_with_its_metrics(config, tmp_path,
                                                  monkeypatch, weight_files):
    npy, _, pool, as_float = LOFGAN_CONFIGS[config]
    write_lofgan_array(tmp_path / 'data', npy, pool + 2, as_float)
    monkeypatch.setenv('METAGAN_LOFGAN', str(tmp_path / 'data'))
    for name, path in weight_files.items():
        monkeypatch.setenv(name, path)
    before, model, runner = train_in_process(
        osp.join(FUSION, config), tmp_path / 'work', {
            'train_cfg.max_iters': 1,
            'train_dataloader.batch_size': 2,
            'train_dataloader.num_workers': 0,
            'train_dataloader.persistent_workers': False,
            'train_dataloader.dataset.dataset.split.first_n': 4,
            'test_dataloader.dataset.dataset.split.first_n': 4,
            'default_hooks.checkpoint': None,
            'custom_hooks.0.num_classes': 1,
            'custom_hooks.0.num_samples': 2,
            'model.generator.base_channels': 4,
            'model.discriminator.base_channels': 4,
            'test_cfg.num_samples': 3,
            'test_evaluator.0.feature_net.resize': 75,
        })
    assert runner.iter == 1
    assert_trained(before, model)
    # the grid hook drew the test pool (its default data set)
    grid = tmp_path / 'work' / 'samples' / 'fewshot_iter_1.png'
    assert grid.is_file()
    metrics = runner.test()
    assert set(metrics) == {'fewshot_inception/fid', 'fewshot/lpips'}
    assert np.isfinite(metrics['fewshot_inception/fid'])
    assert metrics['fewshot_inception/fid'] > 0
    assert 0 < metrics['fewshot/lpips'] < 10
