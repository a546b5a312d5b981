"""Conditioned architectures: shapes, conditioning, vmap == loop, checks."""
import pytest
import torch
from torch.func import functional_call, vmap

from metagan_mm.architectures import (ConcatConditionDCGANGenerator,
                                      FAMLDiscriminator, FAMLEncoder,
                                      FAMLGenerator, FIGRDCGANGenerator,
                                      ProjectionDCGANDiscriminator,
                                      SupportSetEncoder, check_condition_sizes)

E = 16  # embedding / condition size of the small test nets


def small_nets(scale=32, channels=1):
    torch.manual_seed(0)
    enc = SupportSetEncoder(scale, channels, base_channels=4, embed_size=E)
    gen = ConcatConditionDCGANGenerator(
        noise_size=8,
        condition_size=E,
        out_scale=scale,
        out_channels=channels,
        base_channels=4)
    dis = ProjectionDCGANDiscriminator(
        scale, channels, condition_size=E, base_channels=4)
    return enc, gen, dis


def n_params(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize('scale', [32, 64])
@pytest.mark.parametrize('channels', [1, 3])
def test_small_nets_shapes(scale, channels):
    enc, gen, dis = small_nets(scale, channels)
    support = torch.rand(4, channels, scale, scale) * 2 - 1
    emb = enc(support)
    assert emb.shape == (E, )
    per_image = enc.embed_images(support)  # LayerNorm: mean 0, variance 1
    torch.testing.assert_close(
        per_image.mean(1), torch.zeros(4), rtol=0, atol=1e-5)
    torch.testing.assert_close(
        per_image.var(1, unbiased=False), torch.ones(4), rtol=0, atol=1e-3)
    assert enc(support.expand(3, -1, -1, -1, -1)).shape == (3, E)
    img = gen(torch.randn(5, 8), emb)
    assert img.shape == (5, channels, scale, scale)
    assert float(img.detach().abs().max()) <= 1.0
    assert gen(torch.randn(5, 8), emb.expand(5, E)).shape == img.shape
    assert dis(img, emb).shape == (5, 1)
    assert dis(img, emb.expand(5, E)).shape == (5, 1)
    assert gen.output_shape == dis.input_shape == enc.input_shape == (
        channels, scale, scale)
    assert not list(enc.buffers()) + list(gen.buffers()) + list(dis.buffers())


def test_default_sizes_and_parameter_counts():
    enc = SupportSetEncoder()
    gen = ConcatConditionDCGANGenerator()
    dis = ProjectionDCGANDiscriminator()
    assert (enc.embed_size, gen.condition_size, gen.noise_size,
            dis.condition_size) == (128, 128, 100, 128)
    # convs + LayerNorm affines + linear, counted by hand
    assert n_params(enc) == (544 + 32_832 + 128 + 131_200 + 256 + 262_272)
    assert n_params(gen) == (937_984 + 512 + 524_416 + 256 + 131_136 + 128 +
                             1_025)
    assert n_params(dis) == (1_088 + 131_200 + 256 + 524_544 + 512 + 4_097 +
                             524_288)
    assert n_params(dis.embed) == 128 * 256 * 16
    # the unconditional LayerNorm DCGAN generator plus 128 x 4096 inputs
    assert n_params(gen) - n_params(FIGRDCGANGenerator()) == 128 * 4096


def test_faml_nets_sizes_shapes_and_counts():
    torch.manual_seed(0)
    enc, gen = FAMLEncoder(), FAMLGenerator()
    dis, dis_ln = FAMLDiscriminator(), FAMLDiscriminator(spectral_norm=False)
    support = torch.rand(4, 1, 32, 32) * 2 - 1
    emb = enc(support)  # FAML: one embedding per image
    assert emb.shape == (4, 128)
    img = gen(torch.randn(4, 128), emb)
    assert img.shape == (4, 1, 32, 32)
    assert float(img.detach().abs().max()) <= 1.0
    assert dis(img).shape == dis_ln(img).shape == (4, 1)
    assert (n_params(enc), n_params(gen),
            n_params(dis)) == (5_736_768, 4_859_777, 2_934_721)
    # the LayerNorm variant adds a per-channel affine after six convs
    assert n_params(dis_ln) - n_params(dis) == 2 * (64 + 64 + 128 + 128 + 256 +
                                                    256)
    proj = FAMLDiscriminator(condition_size=128)
    assert n_params(proj) - n_params(dis) == 128 * 512 * 16
    assert proj(img, emb).shape == (4, 1)
    pooled = FAMLEncoder(pooling='mean')(support)
    assert pooled.shape == (128, )
    big = FAMLGenerator(out_scale=64, out_channels=3)
    assert big(torch.randn(2, 128), torch.zeros(128)).shape == (2, 3, 64, 64)
    assert FAMLEncoder(64, 3)(torch.zeros(2, 3, 64, 64)).shape == (2, 128)
    assert FAMLDiscriminator(64, 3)(torch.zeros(2, 3, 64, 64)).shape == (2, 1)


@pytest.mark.parametrize('pooling', ['mean', 'max'])
def test_encoder_is_permutation_invariant(pooling):
    torch.manual_seed(1)
    enc = SupportSetEncoder(base_channels=4, embed_size=E, pooling=pooling)
    support = torch.randn(5, 1, 32, 32)
    with torch.no_grad():
        ref = enc(support)
        for perm in (torch.tensor([4, 3, 2, 1, 0]), torch.randperm(5)):
            assert torch.allclose(enc(support[perm]), ref, atol=1e-6)
        per_image = enc.embed_images(support)
        want = (
            per_image.mean(0)
            if pooling == 'mean' else per_image.max(0).values)
        assert torch.allclose(ref, want, atol=1e-6)
        batch = torch.stack([support, support.flip(0), support * 0.5])
        out = enc(batch)
        assert out.shape == (3, E)
        assert torch.allclose(out[1], ref, atol=1e-6)
        assert torch.allclose(out[2], enc(support * 0.5), atol=1e-6)
        assert not torch.allclose(out[2], ref, atol=1e-3)


def test_encoder_pooling_none_keeps_images():
    enc = SupportSetEncoder(base_channels=4, embed_size=E, pooling='none')
    assert enc(torch.randn(5, 1, 32, 32)).shape == (5, E)
    assert enc(torch.randn(2, 5, 1, 32, 32)).shape == (2, 5, E)


@pytest.mark.parametrize('faml', [False, True])
def test_generator_output_depends_on_condition(faml):
    torch.manual_seed(2)
    gen = (
        FAMLGenerator(noise_size=8, condition_size=E)
        if faml else ConcatConditionDCGANGenerator(
            noise_size=8, condition_size=E, base_channels=4))
    noise = torch.randn(3, 8)
    c1, c2 = torch.rand(E) * 2 - 1, torch.rand(E) * 2 - 1
    with torch.no_grad():
        a, a2, b = gen(noise, c1), gen(noise, c1), gen(noise, c2)
    assert torch.equal(a, a2)
    assert float((a - b).abs().mean()) > 1e-3


def test_projection_term_is_the_inner_product():
    torch.manual_seed(3)
    dis = ProjectionDCGANDiscriminator(condition_size=E, base_channels=4)
    img, cond = torch.randn(2, 1, 32, 32), torch.randn(2, E)
    with torch.no_grad():
        phi = dis.body(img).flatten(1)
        want = dis.head(phi) + (dis.embed(cond) * phi).sum(1, keepdim=True)
        assert torch.allclose(dis(img, cond), want, atol=1e-6)
        dis.embed.weight.zero_()  # V = 0: the unconditional score
        assert torch.allclose(dis(img, cond), dis.head(phi), atol=1e-6)


# ---------------------------------------------------------------------------
# torch.func: vmap over a task dimension == a Python loop


def task_params(module, tasks=3, seed=0):
    """Per-task parameters: the module's, perturbed differently per task."""
    gen = torch.Generator().manual_seed(seed)
    params = {k: v.detach() for k, v in module.named_parameters()}
    return {
        k:
        torch.stack([
            v + 0.05 * torch.randn(v.shape, generator=gen)
            for _ in range(tasks)
        ])
        for k, v in params.items()
    }


def assert_vmap_equals_loop(module, inputs, tasks=3):
    """``inputs``: tuple of ``[T, ...]`` tensors (one slice per task)."""
    stacked = task_params(module, tasks)
    batched = vmap(lambda p, *x: functional_call(module, p, x))(stacked,
                                                                *inputs)
    for t in range(tasks):
        ref = functional_call(module, {
            k: v[t]
            for k, v in stacked.items()
        }, tuple(x[t] for x in inputs))
        assert torch.allclose(batched[t], ref, atol=1e-5, rtol=1e-5)
    return batched


def vmap_cases():
    torch.manual_seed(4)
    T = 3
    sup = torch.randn(T, 4, 1, 32, 32)
    cond = torch.rand(T, E) * 2 - 1
    conds = torch.rand(T, 5, E) * 2 - 1
    noise = torch.randn(T, 5, 8)
    img = torch.randn(T, 5, 1, 32, 32)
    enc, gen, dis = small_nets()
    return [
        ('SupportSetEncoder', enc, (sup, )),
        ('SupportSetEncoder-none',
         SupportSetEncoder(base_channels=4, embed_size=E,
                           pooling='none'), (sup, )),
        ('ConcatConditionDCGANGenerator', gen, (noise, cond)),
        ('ConcatConditionDCGANGenerator-per-image', gen, (noise, conds)),
        ('ProjectionDCGANDiscriminator', dis, (img, cond)),
        ('FAMLEncoder', FAMLEncoder(embed_size=E), (sup, )),
        ('FAMLGenerator', FAMLGenerator(noise_size=8,
                                        condition_size=E), (noise, conds)),
        ('FAMLDiscriminator-layernorm',
         FAMLDiscriminator(spectral_norm=False,
                           condition_size=E), (img, cond)),
    ]


@pytest.mark.parametrize('case', range(8))
def test_vmap_over_tasks_equals_loop(case):
    """In float64: FAML's 512-channel conv stacks give outputs of ~40 whose
    float32 batched and per-task convolutions differ by ~1e-4 (3e-6
    relative), summation order only."""
    name, module, inputs = vmap_cases()[case]
    module = module.double()
    inputs = tuple(x.double() for x in inputs)
    out = assert_vmap_equals_loop(module, inputs)
    assert out.shape[0] == 3, name
    assert not torch.allclose(out[0], out[1], atol=1e-4), name


def test_encoder_generator_discriminator_chain_under_vmap():
    """One task's E -> G -> D forward, vmapped over tasks with all three
    modules' parameters batched (the shape of a conditioned inner loop)."""
    enc, gen, dis = small_nets()
    torch.manual_seed(5)
    sup, noise = torch.randn(3, 4, 1, 32, 32), torch.randn(3, 6, 8)
    pe, pg, pd = task_params(enc, seed=1), task_params(gen, seed=2), \
        task_params(dis, seed=3)

    def task(pe, pg, pd, s, z):
        c = functional_call(enc, pe, (s, ))
        return functional_call(dis, pd, (functional_call(gen, pg, (z, c)), c))

    out = vmap(task)(pe, pg, pd, sup, noise)
    for t in range(3):
        pick = lambda p: {k: v[t] for k, v in p.items()}  # noqa: E731
        ref = task(pick(pe), pick(pg), pick(pd), sup[t], noise[t])
        assert torch.allclose(out[t], ref, atol=1e-5, rtol=1e-5)
    assert out.shape == (3, 6, 1)


@pytest.mark.parametrize('cls, args', [
    (FAMLDiscriminator, {}),
    (ProjectionDCGANDiscriminator,
     dict(condition_size=E, base_channels=4, spectral_norm=True)),
])
def test_spectral_norm_runs_sequentially_not_under_vmap(cls, args):
    torch.manual_seed(6)
    dis = cls(**args)
    assert any('parametrizations' in k for k, _ in dis.named_parameters())
    img = torch.randn(3, 2, 1, 32, 32)
    cond = () if cls is FAMLDiscriminator else (torch.randn(3, E), )
    stacked = task_params(dis)
    for t in range(3):  # the sequential loop works
        params = {k: v[t] for k, v in stacked.items()}
        out = functional_call(dis, params,
                              (img[t], ) + tuple(c[t] for c in cond))
        assert out.shape == (2, 1)
    dis.train()  # power iteration updates buffers in place: vmap fails
    with pytest.raises(RuntimeError):
        vmap(lambda p, *x: functional_call(dis, p, x))(stacked, img, *cond)


# ---------------------------------------------------------------------------
# bad input


def test_check_condition_sizes():
    enc, gen, dis = small_nets()
    check_condition_sizes(enc, gen, dis)
    check_condition_sizes(enc, gen)
    check_condition_sizes(FAMLEncoder(), FAMLGenerator(), FAMLDiscriminator())
    big = SupportSetEncoder(base_channels=4, embed_size=32)
    with pytest.raises(ValueError) as err:
        check_condition_sizes(big, gen, dis)
    for text in ('SupportSetEncoder', 'embed_size=32',
                 'ConcatConditionDCGANGenerator', f'condition_size={E}'):
        assert text in str(err.value)
    gen32 = ConcatConditionDCGANGenerator(
        noise_size=8, condition_size=32, base_channels=4)
    with pytest.raises(ValueError) as err:
        check_condition_sizes(big, gen32, dis)
    for text in ('embed_size=32', 'ProjectionDCGANDiscriminator',
                 f'condition_size={E}'):
        assert text in str(err.value)
    with pytest.raises(
            ValueError,
            match='FIGRDCGANGenerator takes no '
            'condition.*SupportSetEncoder.*32-d'):
        check_condition_sizes(big, FIGRDCGANGenerator(base_channels=4))
    with pytest.raises(
            ValueError, match='FIGRDCGANGenerator is not a '
            'condition encoder'):
        check_condition_sizes(FIGRDCGANGenerator(base_channels=4), gen)


def test_bad_arguments_and_shapes_name_the_sizes():
    enc, gen, dis = small_nets()
    with pytest.raises(ValueError, match=r'condition_size=16.*\(3, 17\)'):
        gen(torch.randn(3, 8), torch.zeros(3, 17))
    with pytest.raises(ValueError, match=r'\[16\] or \[N, 16\].*\(3, 2, 16\)'):
        dis(torch.zeros(3, 1, 32, 32), torch.zeros(3, 2, 16))
    # K per-image conditions for N images: image i gets row i mod K
    rows = dis.condition_rows(torch.arange(32.).reshape(2, 16), 3)
    assert rows[:, 0].tolist() == [0.0, 16.0, 0.0]
    with pytest.raises(ValueError, match=r'images must be \[N, 1, 32, 32\]'):
        enc(torch.zeros(4, 3, 32, 32))
    with pytest.raises(ValueError, match='support must be'):
        enc(torch.zeros(32, 32))
    with pytest.raises(ValueError, match="pooling='sum'"):
        SupportSetEncoder(pooling='sum')
    with pytest.raises(ValueError, match="norm='batch'"):
        FAMLGenerator(norm='batch')
    with pytest.raises(ValueError, match='embed_size=0'):
        SupportSetEncoder(embed_size=0)
    with pytest.raises(ValueError, match='out_scale=48'):
        FAMLGenerator(out_scale=48)
    with pytest.raises(ValueError, match='unconditional'):
        FAMLDiscriminator()(torch.zeros(1, 1, 32, 32), torch.zeros(128))
    with pytest.raises(ValueError, match='needs a condition'):
        FAMLDiscriminator(condition_size=4)(torch.zeros(1, 1, 32, 32))


def test_registered_in_models():
    pytest.importorskip('mmagic')
    import metagan_mm  # noqa: F401  (registers)
    from metagan_mm.registry import MODELS
    enc = MODELS.build(
        dict(type='SupportSetEncoder', embed_size=E, base_channels=4))
    gen = MODELS.build(
        dict(
            type='ConcatConditionDCGANGenerator',
            condition_size=E,
            base_channels=4))
    dis = MODELS.build(
        dict(
            type='ProjectionDCGANDiscriminator',
            condition_size=E,
            base_channels=4))
    check_condition_sizes(enc, gen, dis)
    for name in ('FAMLEncoder', 'FAMLGenerator', 'FAMLDiscriminator'):
        assert type(MODELS.build(dict(type=name))).__name__ == name


def test_projection_discriminator_starts_unconditional_then_projects():
    _, _, dis = small_nets()
    x = torch.rand(3, 1, 32, 32) * 2 - 1
    c1, c2 = torch.randn(E), torch.randn(E)
    with torch.no_grad():
        assert torch.equal(dis(x, c1), dis(x, c2))  # V = 0 at init
        dis.embed.weight.normal_()
        phi = dis.body(x).flatten(1)
        expected = (dis.embed(c1 - c2) * phi).sum(1, keepdim=True)
        torch.testing.assert_close(
            dis(x, c1) - dis(x, c2), expected, rtol=1e-4, atol=1e-4)
