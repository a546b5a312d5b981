"""LPIPS (VGG) from local weight files, and LoFGAN's within-class LPIPS.

No real weights exist on the test machine: the files are torchvision's
VGG16 convolutional layers (their real sizes, about 59 MB) and LPIPS's five
linear layers, randomly initialised and written by the fixture. The checks
hold for any weights: identical images give 0, the distance is symmetric
and equals the formula of Zhang et al. computed directly here.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from training_helpers import write_lpips_files

from metagan_mm.checkpoint import UnsafeCheckpointError
from metagan_mm.evaluation.feature_nets import LPIPSVGG
from metagan_mm.evaluation.metrics.fewshot_lpips import lofgan_lpips_inputs
from metagan_mm.registry import METRICS


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    return write_lpips_files(tmp_path_factory.mktemp('lpips'))


@pytest.fixture(scope='module')
def net(files):
    return LPIPSVGG(*files)


def direct_lpips(files, x0, x1):
    """LPIPS v0.1 as its paper defines it, one image pair at a time, with
    torchvision's VGG16 module."""
    from torchvision.models import vgg16
    vgg_state = torch.load(files[0], weights_only=True)
    lins = torch.load(files[1], weights_only=True)
    model = vgg16(weights=None, init_weights=False)
    model.load_state_dict(vgg_state, strict=False)
    taps = {3: 0, 8: 1, 15: 2, 22: 3, 29: 4}  # relu1_2 ... relu5_3
    shift = torch.tensor([-.030, -.088, -.188]).view(1, 3, 1, 1)
    scale = torch.tensor([.458, .448, .450]).view(1, 3, 1, 1)
    out = []
    for a, b in zip(x0, x1):
        fa, fb = (a[None] - shift) / scale, (b[None] - shift) / scale
        total = 0.0
        for index, layer in enumerate(model.features[:30]):
            fa, fb = layer(fa), layer(fb)
            if index in taps:
                w = lins[f'lin{taps[index]}.model.1.weight'].flatten()
                na = fa / (fa.norm(dim=1, keepdim=True) + 1e-10)
                nb = fb / (fb.norm(dim=1, keepdim=True) + 1e-10)
                d = (na - nb)[0].pow(2)  # [C, H, W]
                total += float((d * w[:, None, None]).sum(0).mean())
        out.append(total)
    return torch.tensor(out)


def test_identical_zero_symmetric_and_as_defined(files, net):
    torch.manual_seed(1)
    x0 = torch.rand(3, 3, 32, 32) * 2 - 1
    x1 = torch.rand(3, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        same = net(x0, x0)
        d01, d10 = net(x0, x1), net(x1, x0)
    assert same.shape == (3, ) and float(same.abs().max()) == 0.0
    assert torch.allclose(d01, d10, rtol=1e-5, atol=1e-7)
    assert float(d01.min()) > 0
    with torch.no_grad():
        expected = direct_lpips(files, x0, x1)
    assert torch.allclose(d01, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize('which', ['vgg', 'lin'])
def test_missing_file_names_it_and_where_it_comes_from(files, tmp_path, which):
    missing = str(tmp_path / 'missing.pth')
    args = dict(vgg_weights=files[0], lin_weights=files[1])
    args[f'{which}_weights'] = missing
    with pytest.raises(FileNotFoundError) as err:
        METRICS.build(
            dict(
                type='FewShotLPIPS', feature_net=dict(type='LPIPSVGG',
                                                      **args)))
    message = str(err.value)
    assert repr(missing) in message
    assert ('VGG16' if which == 'vgg' else 'v0.1/vgg.pth') in message
    # where both files come from, the config keys and the env vars
    for text in ('vgg16-397923af.pth', 'weights/v0.1/vgg.pth',
                 'feature_net.vgg_weights', 'feature_net.lin_weights',
                 'METAGAN_LPIPS_VGG16', 'METAGAN_LPIPS_LIN',
                 'No metric downloads anything'):
        assert text in message


def test_wrong_files_are_refused_by_name(files, tmp_path):
    vgg, lin = files
    with pytest.raises(
            ValueError,
            match=r'vgg\.pth is not the VGG16 .*lacks'
            r" \['features\.0\.weight'"):
        LPIPSVGG(vgg_weights=lin, lin_weights=lin)
    with pytest.raises(ValueError, match=r'is not the LPIPS v0\.1 linear'):
        LPIPSVGG(vgg_weights=vgg, lin_weights=vgg)
    bad = str(tmp_path / 'lin_wrong_shape.pth')
    torch.save(
        {f'lin{i}.model.1.weight': torch.rand(1, 8, 1, 1)
         for i in range(5)}, bad)
    with pytest.raises(
            ValueError,
            match=r'wrong shapes: lin0\.model\.1\.'
            r'weight \(1, 8, 1, 1\) \(expected \(1, 64, 1, 1\)\)'):
        LPIPSVGG(vgg_weights=vgg, lin_weights=bad)


class _Payload:
    """Unpickling this would run code; the safe loader must refuse it."""

    def __reduce__(self):
        return (print, ('ran code from the file', ))


def test_lpips_files_never_run_code(files, tmp_path, monkeypatch):
    monkeypatch.setenv('METAGAN_TRUST_CHECKPOINT', '1')  # ignored here
    evil = tmp_path / 'evil.pth'
    torch.save({'lin0.model.1.weight': _Payload()}, evil)
    with pytest.raises(UnsafeCheckpointError):
        LPIPSVGG(vgg_weights=files[0], lin_weights=str(evil))


def test_lofgan_inputs_quantise_resize_and_rescale():
    img = torch.linspace(-1, 1, 3 * 64 * 64).reshape(1, 3, 64, 64)
    plain = lofgan_lpips_inputs(img, 32, lofgan_rescale=False)
    pixels = ((img + 1) * 127.5).floor()  # ToPILImage truncates
    resized = F.interpolate(
        pixels, size=(32, 32), mode='bilinear', align_corners=False).round()
    assert plain.shape == (1, 3, 32, 32)
    assert torch.equal(plain, resized / 127.5 - 1)
    doubled = lofgan_lpips_inputs(img, 32, lofgan_rescale=True)
    assert torch.allclose(doubled, 2 * plain - 1)
    assert float(doubled.min()) == -3.0
    # no resize at the target size: the 8-bit values only
    small = lofgan_lpips_inputs(img[..., :32, :32], 32, False)
    assert torch.equal(small, pixels[..., :32, :32] / 127.5 - 1)


def test_lofgan_resize_matches_cv2_within_one_level():
    cv2 = pytest.importorskip('cv2')
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    theirs = cv2.resize(img, (32, 32)).astype(np.float64)  # LoFGAN's call
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1
    ours = (lofgan_lpips_inputs(x, 32, False)[0].permute(1, 2, 0).double() +
            1) * 127.5
    assert np.abs(ours.numpy() - theirs).max() <= 1.0 + 1e-4


def test_metric_means_all_pairs_per_class_then_classes(files, net):
    torch.manual_seed(2)
    metric = METRICS.build(
        dict(
            type='FewShotLPIPS',
            feature_net=net,
            resize=32,
            lofgan_rescale=True,
            batch_size=3,
            device='cpu'))
    fakes = [
        torch.rand(4, 3, 64, 64) * 2 - 1,
        torch.rand(3, 3, 64, 64) * 2 - 1
    ]
    metric.process({}, [
        dict(class_idx=c, class_name=str(c), fake=f, real=f[:1])
        for c, f in enumerate(fakes)
    ])
    value = metric.evaluate(2)['fewshot/lpips']
    per_class = []
    with torch.no_grad():
        for fake in fakes:
            x = lofgan_lpips_inputs(fake, 32, True)
            pairs = [(i, j) for i in range(len(x))
                     for j in range(i + 1, len(x))]
            d = net(x[[i for i, _ in pairs]], x[[j for _, j in pairs]])
            per_class.append(float(d.mean()))
    # classes of 6 and 3 pairs weigh alike (a mean of class means)
    assert value == pytest.approx(np.mean(per_class), rel=1e-5)
    assert value != pytest.approx(
        (6 * per_class[0] + 3 * per_class[1]) / 9, rel=1e-3)


@pytest.mark.gpu
def test_metric_on_cuda_equals_cpu(files):
    torch.manual_seed(3)
    fake = torch.rand(5, 3, 128, 128) * 2 - 1
    values = []
    for device in ('cpu', 'cuda'):
        metric = METRICS.build(
            dict(
                type='FewShotLPIPS',
                feature_net=dict(
                    type='LPIPSVGG',
                    vgg_weights=files[0],
                    lin_weights=files[1]),
                lofgan_rescale=True,
                device=device))
        metric.process({}, [dict(class_idx=0, fake=fake, real=fake[:1])])
        values.append(metric.evaluate(1)['fewshot/lpips'])
    assert values[1] == pytest.approx(values[0], rel=1e-3)
