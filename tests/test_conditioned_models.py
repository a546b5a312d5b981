"""Conditioned meta-GANs: a set encoder as a third meta-module."""
import copy

import pytest
import torch
from meta_gan_helpers import message_hub  # noqa: F401
from meta_gan_helpers import NZ, batch, build, model_cfg, params
from mmengine.optim import OptimWrapper, OptimWrapperDict

NAMES = ('generator', 'discriminator', 'encoder')


def cond_cfg(type_='ReptileGAN', embed=16, **extra):
    """``model_cfg`` with a set encoder, a concat-conditioned generator and
    a projection discriminator, 4 base channels."""
    cfg = model_cfg(type_, **extra)
    cfg['generator'] = dict(
        type='ConcatConditionDCGANGenerator',
        noise_size=NZ,
        condition_size=embed,
        out_scale=32,
        out_channels=1,
        base_channels=4)
    cfg['discriminator'] = dict(
        type='ProjectionDCGANDiscriminator',
        in_scale=32,
        in_channels=1,
        condition_size=embed,
        base_channels=4)
    cfg['encoder'] = dict(
        type='SupportSetEncoder',
        in_scale=32,
        in_channels=1,
        base_channels=4,
        embed_size=embed)
    return cfg


def optim(model, lr=0.5, names=NAMES):
    return OptimWrapperDict(
        **{
            name:
            OptimWrapper(
                torch.optim.SGD(getattr(model, name).parameters(), lr=lr))
            for name in names
        })


@pytest.mark.parametrize(
    'type_, extra', [
        ('ReptileGAN', {}),
        ('MAMLGAN', dict(num_support=2, first_order=True)),
        ('MAMLGAN', dict(num_support=2)),
        ('MetaSGDGAN', dict(num_support=2)),
    ],
    ids=['reptile', 'fomaml', 'maml', 'meta-sgd'])
def test_one_meta_iteration_moves_all_three_modules(type_, extra):
    model = build(cond_cfg(type_, **extra))
    wrappers = optim(model, names=list(model.meta_modules()))
    before = {n: params(getattr(model, n)) for n in NAMES}
    logs = model.train_step(
        batch(num_tasks=2, k_shot=extra.get('num_support', 4)), wrappers)
    assert float(logs['meta_grad_norm_e']) > 0
    for name in NAMES:
        after = params(getattr(model, name))
        moved = max(
            float((after[k] - v).abs().max()) for k, v in before[name].items())
        assert moved > 1e-7, name
        assert all(torch.isfinite(v).all() for v in after.values())


def test_zero_step_generation_depends_on_the_shots_and_is_repeatable():
    model = build(cond_cfg())
    gen = torch.Generator().manual_seed(0)
    shots_a = torch.rand(4, 1, 32, 32, generator=gen) * 2 - 1
    shots_b = -shots_a
    before = params(model)
    a = model.generate_adapted(shots_a, num=5, steps=0, seed=3)
    again = model.generate_adapted(shots_a, num=5, steps=0, seed=3)
    b = model.generate_adapted(shots_b, num=5, steps=0, seed=3)
    assert a.shape == (5, 1, 32, 32)
    torch.testing.assert_close(a, again, rtol=0, atol=0)
    assert float((a - b).abs().max()) > 1e-4  # other shots, other images
    adapted = model.generate_adapted(shots_a, num=5, steps=2, seed=3)
    assert float((a - adapted).abs().max()) > 1e-6
    for name, value in params(model).items():
        assert torch.equal(value, before[name]), name


def test_adapt_returns_every_meta_module():
    model = build(cond_cfg())
    support = torch.rand(4, 1, 32, 32) * 2 - 1
    for steps in (0, 1):
        weights, _ = model.adapt(support, steps=steps)
        assert set(weights) == set(NAMES)


def test_encoder_that_does_not_fit_fails_at_build_naming_both_sizes():
    cfg = cond_cfg()
    cfg['encoder']['embed_size'] = 8
    with pytest.raises(
            ValueError,
            match='SupportSetEncoder embeds into '
            'embed_size=8, but the generator '
            'ConcatConditionDCGANGenerator expects '
            'condition_size=16'):
        build(cfg)


def test_conditioned_generator_without_encoder_fails_at_build():
    cfg = cond_cfg()
    del cfg['encoder']
    with pytest.raises(
            ValueError,
            match='generator '
            r'ConcatConditionDCGANGenerator is conditioned '
            r'\(condition_size=16\) but the model has no '
            'encoder'):
        build(cfg)


def test_encoder_with_an_unconditional_generator_fails_at_build():
    cfg = model_cfg(encoder=cond_cfg()['encoder'])
    with pytest.raises(
            ValueError, match='FIGRDCGANGenerator takes no '
            'condition'):
        build(cfg)


def test_model_that_cannot_train_an_encoder_refuses_it():
    with pytest.raises(
            ValueError,
            match='TransferGAN cannot train a '
            r'condition encoder \(SupportSetEncoder\)'):
        build(cond_cfg('TransferGAN'))


def test_missing_encoder_optimizer_is_named():
    model = build(cond_cfg())
    wrappers = optim(model, names=('generator', 'discriminator'))
    with pytest.raises(
            KeyError, match="optim_wrapper has no 'encoder' "
            'entry'):
        model.train_step(batch(), wrappers)


def test_faml_defaults_are_famls_networks_and_losses():
    model = build(
        dict(
            type='FAMLGAN',
            data_preprocessor=copy.deepcopy(model_cfg()['data_preprocessor'])))
    assert type(model.encoder).__name__ == 'FAMLEncoder'
    assert type(model.generator).__name__ == 'FAMLGenerator'
    assert type(model.discriminator).__name__ == 'FAMLDiscriminator'
    cfg = model.inner_loop.cfg
    assert (cfg.loss, cfg.recon_weight, cfg.mode_seeking_weight,
            cfg.betas) == ('ragan', 1.0, 1.0, (0.5, 0.999))
    total = sum(p.numel() for p in model.parameters())
    assert 13_400_000 < total < 13_700_000  # E 5.74M + G 4.86M + D 2.93M


def test_generate_tool_probes_a_conditioned_generator():
    from metagan_mm.apis.fewshot_generation import model_image_shape
    assert model_image_shape(build(cond_cfg())) == (1, 32, 32)
