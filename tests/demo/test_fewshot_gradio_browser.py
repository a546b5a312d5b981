"""The demo page in a real browser: headless Chromium (the system package)
driven by Playwright against ``demo/fewshot_gradio.py`` serving a model
trained here through tools/train.py.  Uploads, generation, the download, a
bad upload, two sessions at once, and no request leaving this machine."""
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from urllib.parse import urlparse

import numpy as np
import pytest
from mmengine.config import Config
from PIL import Image
from playwright.sync_api import sync_playwright
from training_helpers import CONFIG, REPO_ROOT, _free_port, train

from metagan_mm.apis import (generate_from_shots, load_meta_model,
                             model_image_shape, read_shots)
from metagan_mm.registry import DATASETS

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


@pytest.fixture(scope='module')
def chromium():
    """The system Chromium; CI installs it (.ci/run), so there it must be."""
    if CHROMIUM is None:
        message = ('chromium is not installed: apt-get install -y chromium '
                   '(.ci/run installs it)')
        if os.environ.get('CI'):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=['--no-sandbox'])
        yield browser
        browser.close()


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A quick-start model trained for 2 meta-iterations."""
    work_dir = tmp_path_factory.mktemp('train')
    train(work_dir, max_iters=2)
    return str(work_dir / 'iter_2.pth')


@pytest.fixture(scope='module')
def server(checkpoint):
    """The demo on a free port: its URL."""
    port = _free_port()
    proc = subprocess.Popen([
        sys.executable, 'demo/fewshot_gradio.py', CONFIG, checkpoint, '--port',
        str(port)
    ],
                            cwd=REPO_ROOT,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + 180
    try:
        while True:
            assert proc.poll() is None, proc.stdout.read()
            assert time.time() < deadline, 'the demo did not start in 180 s'
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()  # stops like Ctrl+C, deleting its outputs
        assert proc.wait(timeout=30) == 0, proc.stdout.read()


@pytest.fixture(scope='module')
def shots(tmp_path_factory):
    """Two sets of shots of unseen glyph classes: 4 grayscale 32x32 PNGs,
    and 3 RGB 48x48 ones (the page converts and resizes them)."""
    cfg = Config.fromfile(CONFIG)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    folder = tmp_path_factory.mktemp('shots')
    sets = []
    for index, (count, mode, size) in enumerate([(4, 'L', 32),
                                                 (3, 'RGB', 48)]):
        images = dataset[index]['inputs']['support'][:count, 0].numpy()
        paths = []
        for i, image in enumerate(images):
            path = str(folder / f'class{index}_{i}.png')
            Image.fromarray(image).convert(mode).resize(
                (size, size), Image.NEAREST).save(path)
            paths.append(path)
        sets.append(paths)
    return sets


@pytest.fixture(scope='module')
def expect(checkpoint, tmp_path_factory):
    """``expect(paths, num, steps, seed)``: the images tools/generate.py's
    path makes from these shots."""
    model = load_meta_model(CONFIG, checkpoint, log=lambda m: None)
    out = tmp_path_factory.mktemp('expected')

    def images(paths, num, steps, seed):
        support = read_shots(paths, model_image_shape(model), True,
                             lambda m: None)
        written = generate_from_shots(model, support, num,
                                      str(out / f'{seed}'), steps, seed)
        return [np.asarray(Image.open(p)) for p in written[:-1]]

    return images


def open_page(browser, url):
    """A page in a fresh browser context (a user of its own) and the list
    its requests are recorded in."""
    context = browser.new_context()
    requests = []
    context.on('request', lambda request: requests.append(request.url))
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector('#generate')
    return page, requests


def upload(page, paths):
    page.locator('#uploads input[type=file]').set_input_files(paths)
    page.locator('#uploads td.filename').nth(len(paths) - 1).wait_for()


def set_number(page, elem_id, value):
    box = page.locator(f'#{elem_id} input[type=number]')
    box.fill(str(value))
    box.press('Enter')


def generate(page, steps, num, seed):
    set_number(page, 'steps', steps)
    set_number(page, 'num', num)
    set_number(page, 'seed', seed)
    page.click('#generate')


def wait_status(page, text):
    page.locator('#status', has_text=text).wait_for(timeout=120_000)
    return page.locator('#status').inner_text()


def shown(page, elem_id):
    """``(naturalWidth, naturalHeight)`` of the images of a gallery, once
    they are loaded."""
    page.wait_for_function(
        'id => [...document.querySelectorAll(`#${id} img`)]'
        '.every(e => e.complete && e.naturalWidth > 0)',
        arg=elem_id)
    return page.eval_on_selector_all(
        f'#{elem_id} img', 'els => els.map(e => [e.naturalWidth, '
        'e.naturalHeight])')


def downloaded(page):
    """The zip's images, by name."""
    with page.expect_download() as info:
        page.locator('#zip a').first.click()
    with zipfile.ZipFile(info.value.path()) as archive:
        return {
            name: np.asarray(Image.open(archive.open(name)))
            for name in sorted(archive.namelist())
        }


def assert_same_images(got, want):
    """Equal up to one grey level (float rounding of the generator)."""
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert a.shape == b.shape
        assert np.abs(a.astype(int) - b).max() <= 1


def assert_local(requests, url):
    host = urlparse(url).netloc
    away = [r for r in requests if urlparse(r).netloc != host]
    assert requests and not away, away


def test_generate_from_uploaded_shots(chromium, server, shots, expect):
    page, requests = open_page(chromium, server)
    upload(page, shots[0])
    # record the progress lines the page shows, however briefly
    page.evaluate('''() => { window.seen = new Set();
        new MutationObserver(() => {
            const line = document.body.innerText.match(/adapting to.*/);
            if (line) window.seen.add(line[0]);
        }).observe(document.body,
                   {subtree: true, childList: true, characterData: true});
    }''')
    generate(page, steps=20, num=6, seed=0)
    status = wait_status(page, 'Generated')
    # the page showed what it was doing while the model adapted
    seen = page.evaluate('[...window.seen]')
    assert any(
        'adapting to 4 shots (20 steps), then generating 6 images' in line
        for line in seen), seen
    assert 'Generated 6 images from 4 shots with 20 adaptation steps' in status
    assert shown(page, 'shots') == [[32, 32]] * 4
    assert shown(page, 'generated') == [[32, 32]] * 6
    files = downloaded(page)
    assert sorted(files) == sorted(
        [f'shot_{i}.png'
         for i in range(4)] + [f'generated_{i:04d}.png'
                               for i in range(6)] + ['grid.png'])
    assert_same_images([files[f'generated_{i:04d}.png'] for i in range(6)],
                       expect(shots[0], 6, 20, 0))
    assert_local(requests, server)


def test_bad_uploads_are_answered_on_the_page(chromium, server, shots,
                                              tmp_path):
    page, requests = open_page(chromium, server)
    notes = tmp_path / 'notes.png'
    notes.write_text('a shopping list, not an image')
    upload(page, [shots[0][0], str(notes)])
    page.click('#generate')
    status = wait_status(page, 'Error')
    assert 'notes.png is not an image this page can read: upload PNG or ' \
        'JPEG files.' in status
    assert shown(page, 'generated') == []
    page.locator('#uploads button[aria-label="Clear"]').first.click()
    upload(page, shots[0] + shots[1][:2])
    page.click('#generate')
    assert 'Got 6 images: upload 1 to 5 images of one new class.' in \
        wait_status(page, 'Got 6')
    assert_local(requests, server)


def test_two_sessions_at_once_get_their_own_images(chromium, server, shots,
                                                   expect):
    sessions = [open_page(chromium, server)[0] for _ in range(2)]
    asks = [(shots[0], 4, 1), (shots[1], 5, 2)]  # shots, images, seed
    for page, (paths, num, seed) in zip(sessions, asks):
        upload(page, paths)
        generate(page, steps=5, num=num, seed=seed)
    for page, (paths, num, seed) in zip(sessions, asks):
        status = wait_status(page, 'Generated')
        assert f'Generated {num} images from {len(paths)} shots' in status
        assert shown(page, 'generated') == [[32, 32]] * num
        files = downloaded(page)
        assert_same_images(
            [files[f'generated_{i:04d}.png'] for i in range(num)],
            expect(paths, num, 5, seed))


def test_unseen_class_of_the_config(chromium, server):
    page, requests = open_page(chromium, server)
    page.get_by_label('an unseen class').check()
    generate(page, steps=0, num=3, seed=0)
    status = wait_status(page, 'Generated')
    assert 'Generated 3 images from 4 shots with 0 adaptation steps' in status
    assert shown(page, 'shots') == [[32, 32]] * 4
    assert shown(page, 'generated') == [[32, 32]] * 3
    assert_local(requests, server)
