"""Answer time of the few-shot demo (demo/fewshot_gradio.py).

Generation from 4 uploaded 32x32 shots of an unseen glyph class, timed two
ways:

* ``handler``: the page's request function in this process, in a worker
  thread as Gradio runs it (read and check the uploads, adapt, generate,
  write the PNGs and the zip);
* ``page``: in headless Chromium (the system package, via Playwright),
  from the click on Generate until the generated images are shown, with
  the demo serving in its own process as a user starts it.

    python benchmarks/bench_demo.py [CONFIG CHECKPOINT] [--repeats 7]
        [--threads 2] [--no-page] [--screenshot PNG]

Defaults: the quick start's config and its newest checkpoint in
``work_dirs/`` (run the README's quick start first).  Prints a table of the
median, min and max over ``--repeats`` timed requests after one warm-up.
"""
import argparse
import glob
import os
import os.path as osp
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)
QUICK_START = osp.join(
    'configs', 'reptile',
    'reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py')
#: (adaptation steps, images) per row.
CASES = [(0, 16), (0, 64), (5, 16)]


def newest_checkpoint(config: str) -> str:
    """The highest ``iter_*.pth`` of the config's default work dir."""
    name = osp.splitext(osp.basename(config))[0]
    found = glob.glob(osp.join(REPO_ROOT, 'work_dirs', name, 'iter_*.pth'))
    if not found:
        sys.exit(f'bench_demo: no checkpoint in work_dirs/{name}: run the '
                 f'quick start (tools/train.py {config}) or pass CONFIG '
                 'CHECKPOINT')
    return max(found, key=lambda p: int(p.rsplit('_', 1)[1][:-4]))


def write_shots(config: str, folder: str) -> list:
    """The 4 support images of the second unseen class (Latin/T) as PNG
    files."""
    from mmengine.config import Config
    from PIL import Image

    from metagan_mm.registry import DATASETS
    dataset = DATASETS.build(Config.fromfile(config).test_dataloader.dataset)
    paths = []
    for i, image in enumerate(dataset[1]['inputs']['support'][:4, 0]):
        paths.append(osp.join(folder, f'shot_{i}.png'))
        Image.fromarray(image.numpy()).save(paths[-1])
    return paths


def set_number(page, elem_id: str, value: int) -> None:
    box = page.locator(f'#{elem_id} input[type=number]')
    box.fill(str(value))
    box.press('Enter')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def summary(times: list) -> str:
    return (f'{statistics.median(times):.3f} | {min(times):.3f} | '
            f'{max(times):.3f}')


def bench_handler(config: str, checkpoint: str, shots: list, repeats: int,
                  out_root: str) -> None:
    """Time ``FewShotDemo.run`` for each case."""
    sys.path.insert(0, osp.join(REPO_ROOT, 'demo'))
    import fewshot_gradio
    from mmengine.config import Config

    from metagan_mm.apis import load_meta_model, model_image_shape
    model = load_meta_model(config, checkpoint, log=lambda m: None)
    classes = fewshot_gradio.unseen_classes(
        Config.fromfile(config), model_image_shape(model))
    demo = fewshot_gradio.FewShotDemo(model, classes, out_root)
    # in a worker thread, as Gradio runs it (in the main thread, torch's two
    # OpenMP threads on a loaded machine wait on each other: 10x slower)
    worker = ThreadPoolExecutor(1)
    for steps, num in CASES:
        times = []
        for r in range(repeats + 1):
            start = time.perf_counter()
            result = worker.submit(demo.run, fewshot_gradio.UPLOAD, shots,
                                   None, 4, steps, num, r,
                                   lambda *a, **k: None).result()
            if r:  # the first one warms up
                times.append(time.perf_counter() - start)
            assert len(result[1]) == num, result[3]
        print(
            f'| handler | 4 | {steps} | {num} | {summary(times)} |',
            flush=True)


def bench_page(config: str, checkpoint: str, shots: list, repeats: int,
               screenshot: str) -> None:
    """Time click -> images shown in Chromium for the 0-step cases; save
    the page after the first case to ``screenshot`` if given."""
    chromium = shutil.which('chromium')
    if chromium is None:
        print('SKIP page: chromium is not installed (apt-get install -y '
              'chromium)')
        return
    from playwright.sync_api import sync_playwright
    port = free_port()
    proc = subprocess.Popen([
        sys.executable,
        osp.join(REPO_ROOT, 'demo', 'fewshot_gradio.py'), config, checkpoint,
        '--port',
        str(port)
    ],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f'http://127.0.0.1:{port}/'
    try:
        for _ in range(360):
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=['--no-sandbox'])
            page = browser.new_page(viewport=dict(width=1280, height=860))
            page.goto(url)
            page.locator('#uploads input[type=file]').set_input_files(shots)
            page.locator('#uploads td.filename').nth(3).wait_for()
            for steps, num in [c for c in CASES if c[0] == 0]:
                set_number(page, 'steps', steps)
                set_number(page, 'num', num)
                times = []
                for r in range(repeats + 1):
                    set_number(page, 'seed', 100 + r)  # a new status line
                    start = time.perf_counter()
                    page.click('#generate')
                    page.locator(
                        '#status',
                        has_text=f'(seed {100 + r})').wait_for(timeout=60_000)
                    page.locator('#generated img').nth(num - 1).wait_for()
                    if r:
                        times.append(time.perf_counter() - start)
                print(
                    f'| page | 4 | {steps} | {num} | {summary(times)} |',
                    flush=True)
                if screenshot:
                    page.screenshot(path=screenshot, full_page=True)
                    screenshot = None
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', default=QUICK_START)
    parser.add_argument('checkpoint', nargs='?')
    parser.add_argument('--repeats', type=int, default=7)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--no-page', action='store_true')
    parser.add_argument(
        '--screenshot',
        help='save the page after the 16-image requests here (the docs '
        'image: docs/images/demo_fewshot_gradio.png)')
    args = parser.parse_args()
    os.environ['OMP_NUM_THREADS'] = str(args.threads)  # the demo process
    import torch
    torch.set_num_threads(args.threads)
    checkpoint = args.checkpoint or newest_checkpoint(args.config)
    print(f'torch {torch.__version__} | cpu | {args.threads} threads | '
          f'load average at start {os.getloadavg()[0]:.1f} on '
          f'{os.cpu_count()} cores\n'
          f'config {args.config}\ncheckpoint {checkpoint}\n'
          f'4 uploaded 32x32 PNG shots of an unseen glyph class; median, '
          f'min, max of {args.repeats} requests after a warm-up; seconds\n')
    print('| path | shots | steps | images | median s | min s | max s |\n'
          '| --- | --- | --- | --- | --- | --- | --- |')
    with tempfile.TemporaryDirectory() as tmp:
        shots = write_shots(args.config, tmp)
        out_root = osp.join(tmp, 'out')
        os.makedirs(out_root)
        bench_handler(args.config, checkpoint, shots, args.repeats, out_root)
        if not args.no_page:
            bench_page(args.config, checkpoint, shots, args.repeats,
                       args.screenshot)


if __name__ == '__main__':
    main()
