"""The demo's request handler: uploads checked, each request its own
adaptation, meta-weights untouched (the page itself:
test_fewshot_gradio_browser.py)."""
import os.path as osp
import threading
import zipfile

import numpy as np
import pytest
import torch
from meta_gan_helpers import build, model_cfg
from mmengine.config import Config
from PIL import Image

from metagan_mm.apis import generate_from_shots

CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'reptile', 'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')


@pytest.fixture(scope='module')
def model():
    return build(model_cfg()).eval()


@pytest.fixture
def demo(fewshot_gradio, model, tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    classes = {'Greek/λ': torch.zeros(5, 1, 32, 32, dtype=torch.uint8)}
    return fewshot_gradio.FewShotDemo(model, classes, str(out))


def write_shots(folder, count, seed=0, size=48, mode='RGB'):
    """``count`` random PNGs of ``size`` x ``size``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(count):
        shape = (size, size, 3) if mode == 'RGB' else (size, size)
        path = folder / f'shot{seed}_{i}.png'
        Image.fromarray(rng.integers(0, 256, shape, np.uint8)).save(path)
        paths.append(str(path))
    return paths


def run(demo, uploads=None, steps=1, num=5, seed=0, source=None, name=None):
    return demo.run(
        source or 'my uploads',
        uploads,
        name,
        3,
        steps,
        num,
        seed,
        progress=lambda *a, **k: None)


def pngs(paths):
    return [np.asarray(Image.open(p)) for p in paths]


def assert_same_images(got, want):
    """Equal up to one grey level (float rounding of the generator)."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        assert np.abs(a.astype(int) - b).max() <= 1


def test_request_writes_shots_images_and_zip(demo, model, tmp_path):
    uploads = write_shots(tmp_path / 'up', 3)
    shots, images, zip_path, status = run(demo, uploads, steps=1, num=5)
    assert status.startswith('Generated 5 images from 3 shots with 1 '
                             'adaptation steps (seed 0) in ')
    # each upload is converted to the model's grayscale and resized to 32x32
    assert 'converted shot0_0.png from RGB to L' in status
    assert 'resized shot0_2.png from 48x48 to 32x32' in status
    assert [a.shape for a in pngs(shots)] == [(32, 32)] * 3
    assert [a.shape for a in pngs(images)] == [(32, 32)] * 5
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f'shot_{i}.png'
             for i in range(3)] + [f'generated_{i:04d}.png'
                                   for i in range(5)] + ['grid.png'])
    # the same images as tools/generate.py's path from the same shots
    support = torch.from_numpy(np.stack(pngs(shots)))[:, None]
    expected = generate_from_shots(model, support, 5, str(tmp_path / 'ref'), 1,
                                   0)
    assert_same_images(pngs(images), pngs(expected[:-1]))


def test_unseen_class_request(demo):
    shots, images, _, status = run(
        demo, source='an unseen class', name='Greek/λ', steps=0, num=2)
    assert len(shots) == 3 and len(images) == 2, status
    assert 'from 3 shots with 0 adaptation steps' in status


@pytest.mark.parametrize('case, message', [
    ('none', 'Got 0 images: upload 1 to 5 images of one new class.'),
    ('six', 'Got 6 images: upload 1 to 5 images of one new class.'),
    ('text', 'notes.png is not an image this page can read: upload PNG or '
     'JPEG files.'),
    ('bytes', 'big.png is too large (6.0 MB): upload images of at most 5 MB.'),
    ('pixels', 'wide.png is too large: upload images of at most 16 '
     'megapixels.'),
    ('class', 'Pick an unseen class, or choose "my uploads" and upload '
     'images.'),
    ('steps', 'Adaptation steps must be a whole number from 0 to 20, got 21.'),
    ('num', 'Images to generate must be a whole number from 1 to 64, got '
     '0.5.'),
    ('seed', 'Seed must be a whole number from 0 to 9223372036854775807, got '
     'None.'),
])
def test_bad_request_says_why(demo, tmp_path, case, message):
    uploads, source = [], None
    if case == 'six':
        uploads = write_shots(tmp_path / 'up', 6)
    elif case == 'text':
        (tmp_path / 'notes.png').write_text('not an image')
        uploads = write_shots(tmp_path / 'up',
                              1) + [str(tmp_path / 'notes.png')]
    elif case == 'bytes':
        (tmp_path / 'big.png').write_bytes(b'\0' * (6 * 2**20))
        uploads = [str(tmp_path / 'big.png')]
    elif case == 'pixels':
        Image.new('L', (5000, 4000)).save(tmp_path / 'wide.png')
        uploads = [str(tmp_path / 'wide.png')]
    elif case == 'class':
        source = 'an unseen class'
    settings = dict(
        steps=21 if case == 'steps' else 1,
        num=0.5 if case == 'num' else 5,
        seed=None if case == 'seed' else 0)
    assert run(
        demo, uploads, source=source,
        **settings) == (None, None, None, f'**Error:** {message}')


def test_concurrent_requests_adapt_their_own_copy(demo, model, tmp_path):
    before = {k: v.clone() for k, v in model.state_dict().items()}
    requests = [(write_shots(tmp_path / 'a', 2, seed=1), 3),
                (write_shots(tmp_path / 'b', 4, seed=2), 4)]
    alone = [pngs(run(demo, up, steps=2, seed=s)[1]) for up, s in requests]
    together = [None, None]

    def request(i):
        together[i] = pngs(
            run(demo, requests[i][0], steps=2, seed=requests[i][1])[1])

    threads = [threading.Thread(target=request, args=(i, )) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for got, want in zip(together, alone):
        assert_same_images(got, want)
    assert not np.array_equal(alone[0][0], alone[1][0])
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_unseen_classes_of_the_config(fewshot_gradio):
    cfg = Config.fromfile(CONFIG)
    classes = fewshot_gradio.unseen_classes(cfg, (1, 32, 32))
    assert len(classes) == 19  # 20 % of the 95 glyph classes
    from metagan_mm.registry import DATASETS
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    first = dataset[0]
    name = first['data_samples'].metainfo['class_name']
    assert classes[name].shape == (5, 1, 32, 32)
    assert torch.equal(classes[name][:4], first['inputs']['support'])


def test_unseen_glyph_classes_without_a_test_set(fewshot_gradio):
    classes = fewshot_gradio.unseen_classes(Config(dict()), (3, 16, 16))
    assert len(classes) == 19
    images = next(iter(classes.values()))
    assert images.shape == (5, 3, 16, 16) and images.dtype == torch.uint8
    assert torch.equal(images[:, 0], images[:, 2])  # gray glyphs as RGB


def test_a_fusion_model_is_served_with_its_own_default_steps(
        fewshot_gradio, tmp_path):
    """The quick start's fusion model: 0 adaptation steps by default (its
    ``fewshot_steps``), new images fused from the uploads."""
    from mmengine.registry import init_default_scope

    from metagan_mm.registry import MODELS
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(osp.dirname(CONFIG)), 'fusion',
            'fusion_local-fusion-small_1xb8-600iters_glyphs-32x32.py'))
    cfg.model.generator.base_channels = 4
    cfg.model.discriminator.base_channels = 4
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model).eval()
    out = tmp_path / 'out'
    out.mkdir()
    demo = fewshot_gradio.FewShotDemo(model, {}, str(out))
    assert demo.default_steps == 0
    shots, images, _, status = run(
        demo, write_shots(tmp_path / 'up', 3), steps=0, num=4)
    assert len(shots) == 3 and len(images) == 4, status
    assert 'from 3 shots with 0 adaptation steps' in status
