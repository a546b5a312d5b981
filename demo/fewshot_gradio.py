"""Few-shot generation in the browser: K images of a new class in, new
images of it out.

    python demo/fewshot_gradio.py CONFIG CHECKPOINT [--port 7860]
        [--server-name 127.0.0.1] [--device cpu] [--ema] [--trust-checkpoint]

Serves a local page (Gradio) where a person uploads 1-5 images of a new
class, or picks an unseen class of the config's test data set, chooses the
adaptation steps, the number of images and a seed, and gets the shots as
the model sees them, the generated images and a zip of both.  The model is
loaded once, as ``tools/generate.py`` loads it (safe checkpoint loading,
same refusals); each request adapts its own copy of the meta-weights, which
never change.  Everything the page needs is served from this machine.
"""
import argparse
import os
import os.path as osp
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import zipfile
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import gradio as gr
import torch
import uvicorn
from fastapi import FastAPI
from mmengine.config import Config
from PIL import Image
from starlette.responses import Response

import metagan_mm  # noqa: F401  (applies the compatibility fixes first)
from metagan_mm.apis import (ShotImageError, generate_from_shots,
                             load_meta_model, model_image_shape, read_shots)
from metagan_mm.registry import DATASETS
from metagan_mm.utils.cli import add_trust_arg, friendly_errors

#: Shots a request may upload.
MIN_SHOTS, MAX_SHOTS = 1, 5
#: Largest upload the page accepts, per image: bytes and pixels.
MAX_UPLOAD_MB = 5
MAX_UPLOAD_PIXELS = 16_000_000
#: Adaptation steps and images a request may ask for.
MAX_STEPS, MAX_IMAGES = 20, 64
#: Unseen classes offered (the first ones of the test set).
MAX_CLASSES = 100
#: Requests' output folders, and Gradio's copies of uploads and outputs,
#: older than this are deleted.
KEEP_OUTPUT_S = 3600
UPLOAD, DATASET = 'my uploads', 'an unseen class'
#: System fonts only: Gradio's default theme loads Google fonts.
THEME = gr.themes.Default(
    font=[gr.themes.Font('system-ui'),
          gr.themes.Font('sans-serif')],
    font_mono=[gr.themes.Font('ui-monospace'),
               gr.themes.Font('monospace')])
#: Tags of Gradio's page that load from (or preconnect to) other hosts: a
#: CDN script for embedding in iframes and Google-font hints.
REMOTE_TAG = re.compile(rb'<(?:script|link)\b[^>]*(?:src|href)="https?://'
                        rb'[^"]*"[^>]*>(?:\s*</script>)?')
CSS = '.pixelated img { image-rendering: pixelated; }'


class RequestError(ValueError):
    """A request the page cannot serve; the message is shown on the page."""


class FewShotDemo:
    """The model side of the page: one meta-model, read-only.

    Each request reads its shots, adapts a copy of the meta-weights with
    :func:`~metagan_mm.apis.generate_from_shots` (the meta-weights are
    never changed) and writes its images and zip into a folder of its own.
    Adaptation and generation hold a lock: the networks run on fast
    weights through :func:`torch.func.functional_call`, which swaps them
    into the shared modules for the length of each call, so two requests
    in two threads at once would read each other's weights.

    Args:
        model: A meta-GAN in eval mode (``load_meta_model``).
        classes (dict): Unseen class name -> ``[N, C, H, W]`` uint8 images
            at the model's size, for the class picker.
        out_root (str): Where each request's folder is made.
    """

    def __init__(self, model: torch.nn.Module, classes: dict,
                 out_root: str) -> None:
        self.model = model
        self.shape = model_image_shape(model)
        self.classes = classes
        self.out_root = out_root
        #: The model's own adaptation steps: a fusion model's few-shot
        #: default (0: fuse the shots as trained), a meta-learner's inner loop.
        self.default_steps = getattr(model, 'fewshot_steps',
                                     model.inner_loop.cfg.steps)
        self.model_lock = threading.Lock()

    def read_uploads(self, paths: Optional[Sequence[str]],
                     notes: List[str]) -> torch.Tensor:
        """Check and read uploaded shots as ``[K, C, H, W]`` uint8.

        Raises:
            RequestError: Too few or too many files, a file over the size
                limit, or a file that is not a readable image.
        """
        paths = list(paths or [])
        if not MIN_SHOTS <= len(paths) <= MAX_SHOTS:
            raise RequestError(
                f'Got {len(paths)} images: upload {MIN_SHOTS} to {MAX_SHOTS} '
                'images of one new class.')
        shots = []
        for path in paths:
            name = osp.basename(path)
            size_mb = osp.getsize(path) / 2**20
            if size_mb > MAX_UPLOAD_MB:
                raise RequestError(
                    f'{name} is too large ({size_mb:.1f} MB): upload images '
                    f'of at most {MAX_UPLOAD_MB} MB.')
            try:
                with Image.open(path) as img:
                    pixels = img.size[0] * img.size[1]
            except Image.DecompressionBombError:
                pixels = MAX_UPLOAD_PIXELS + 1
            except OSError:  # not an image: said below
                pixels = 0
            if pixels > MAX_UPLOAD_PIXELS:
                raise RequestError(
                    f'{name} is too large: upload images of at most '
                    f'{MAX_UPLOAD_PIXELS / 1e6:.0f} megapixels.')
            try:
                shots.append(
                    read_shots([path], self.shape, True,
                               lambda m: notes.append(m.replace(path, name))))
            except ShotImageError:
                raise RequestError(
                    f'{name} is not an image this page can read: upload PNG '
                    'or JPEG files.') from None
        return torch.cat(shots)

    def class_shots(self, name: Optional[str], k: int) -> torch.Tensor:
        """The first ``k`` images of an unseen class (its fixed support set
        first)."""
        if name not in self.classes:
            raise RequestError('Pick an unseen class, or choose '
                               f'"{UPLOAD}" and upload images.')
        return self.classes[name][:int(k)]

    def run(self,
            source: str,
            uploads: Optional[Sequence[str]],
            class_name: Optional[str],
            k: int,
            steps: int,
            num: int,
            seed: int,
            progress=gr.Progress()) -> Tuple:
        """One request of the page: shots in, images and zip out.

        Returns:
            tuple: Shot image paths, generated image paths, zip path and a
            Markdown status line (an error message if the request failed).
        """
        start = time.perf_counter()
        notes: List[str] = []
        try:
            steps, num, seed = check_settings(steps, num, seed)
            progress(0.0, desc='reading the shots')
            if source == UPLOAD:
                shots = self.read_uploads(uploads, notes)
            else:
                shots = self.class_shots(class_name, k)
        except RequestError as err:
            return None, None, None, f'**Error:** {err}'
        self._remove_old_outputs()
        out_dir = tempfile.mkdtemp(prefix='request-', dir=self.out_root)
        progress(
            0.1,
            desc=f'adapting to {len(shots)} shots ({steps} steps), then '
            f'generating {num} images')
        with self.model_lock:
            written = generate_from_shots(self.model, shots, num, out_dir,
                                          steps, seed)
        progress(0.9, desc='writing the zip')
        shot_paths = []
        for i, shot in enumerate(shots.permute(0, 2, 3, 1).numpy()):
            shot_paths.append(osp.join(out_dir, f'shot_{i}.png'))
            Image.fromarray(shot[..., 0] if shot.shape[2] == 1 else shot).save(
                shot_paths[-1])
        zip_path = osp.join(out_dir, 'fewshot_generated.zip')
        with zipfile.ZipFile(zip_path, 'w') as archive:
            for path in shot_paths + written:
                archive.write(path, osp.basename(path))
        seconds = time.perf_counter() - start
        status = (f'Generated {num} images from {len(shots)} shots with '
                  f'{steps} adaptation steps (seed {seed}) in {seconds:.2f} '
                  's.')
        if notes:
            status += '\n\n' + '\n'.join(f'* {note}' for note in notes)
        return shot_paths, written[:-1], zip_path, status

    def _remove_old_outputs(self) -> None:
        """Delete the folders of requests older than ``KEEP_OUTPUT_S``."""
        now = time.time()
        for name in os.listdir(self.out_root):
            path = osp.join(self.out_root, name)
            if now - osp.getmtime(path) > KEEP_OUTPUT_S:
                shutil.rmtree(path, ignore_errors=True)


def check_settings(steps, num, seed) -> Tuple[int, int, int]:
    """Steps, images and seed as whole numbers within the page's limits
    (the page's sliders keep to them; its API could send anything).

    Raises:
        RequestError: A value is missing, fractional or out of range.
    """
    values = []
    for name, value, low, high in (('Adaptation steps', steps, 0, MAX_STEPS),
                                   ('Images to generate', num, 1,
                                    MAX_IMAGES), ('Seed', seed, 0, 2**63 - 1)):
        if not isinstance(value, (int, float)) or value != int(value) or \
                not low <= value <= high:
            raise RequestError(f'{name} must be a whole number from {low} '
                               f'to {high}, got {value}.')
        values.append(int(value))
    return tuple(values)


def unseen_classes(cfg: Config, shape: Tuple[int, int, int]) -> dict:
    """Class name -> images of the config's unseen (test) classes.

    The config's ``test_dataloader.dataset`` (an ``EpisodicDataset`` in
    eval mode) gives each class's fixed support set, then its other images
    (the first :data:`MAX_CLASSES` classes).  Without one, or where its data
    are absent, the embedded glyph data set's unseen classes are used, at
    the model's size and channels.
    """
    try:
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
    except (AttributeError, KeyError, FileNotFoundError, ValueError) as err:
        # no test set, or its data are not on this machine
        print(f'fewshot_gradio: no test classes from the config ({err}); '
              'offering the embedded glyph data set\'s unseen classes')
        dataset = DATASETS.build(
            dict(
                type='EpisodicDataset',
                mode='eval',
                dataset=dict(
                    type='GlyphDataset',
                    img_size=shape[1],
                    split=dict(fractions=(0.8, 0.0, 0.2), seed=0),
                    split_part='test',
                    pipeline=[dict(type='PackInputs', keys=['img'])])))
    classes = {}
    for index in range(min(len(dataset), MAX_CLASSES)):
        item = dataset[index]
        name = item['data_samples'].metainfo['class_name']
        images = torch.cat(
            [item['inputs']['support'], item['inputs']['reference']])
        if images.shape[1] != shape[0]:  # grayscale data, colour model
            images = images.expand(-1, shape[0], -1, -1)
        classes[name] = images[:MAX_SHOTS].contiguous()
    return classes


def build_page(demo: FewShotDemo, title: str) -> gr.Blocks:
    """The page: inputs on the left, shots, images and zip on the right."""
    channels, height, width = demo.shape
    names = sorted(demo.classes)
    with gr.Blocks(
            title='metagan-mm few-shot generation',
            theme=THEME,
            css=CSS,
            analytics_enabled=False,
            delete_cache=(600, KEEP_OUTPUT_S)) as page:
        gr.Markdown(
            f'## Few-shot generation: {title}\n'
            f'Give the meta-trained model {MIN_SHOTS}-{MAX_SHOTS} images of '
            f'a new class; it adapts a copy of itself to them and generates '
            f'new images of the class ({width}x{height}, {channels} '
            f'channel{"s" if channels > 1 else ""}). Upload PNG or JPEG '
            f'files of at most {MAX_UPLOAD_MB} MB; other sizes are resized '
            'and colour is converted to match.')
        with gr.Row():
            with gr.Column(scale=1):
                source = gr.Radio([UPLOAD, DATASET],
                                  value=UPLOAD,
                                  label='Shots from')
                uploads = gr.File(
                    file_count='multiple',
                    file_types=['image'],
                    label=f'{MIN_SHOTS}-{MAX_SHOTS} images of one new class',
                    elem_id='uploads')
                class_name = gr.Dropdown(
                    names,
                    value=names[0] if names else None,
                    label=f'Unseen class ({len(names)} in the test set)',
                    elem_id='class-name')
                k = gr.Slider(
                    MIN_SHOTS,
                    MAX_SHOTS,
                    value=min(4, MAX_SHOTS),
                    step=1,
                    label='Shots taken from the unseen class')
                steps = gr.Slider(
                    0,
                    MAX_STEPS,
                    value=min(demo.default_steps, MAX_STEPS),
                    step=1,
                    label='Adaptation steps (0: the trained model as is; '
                    f"the model's default: {demo.default_steps})",
                    elem_id='steps')
                num = gr.Slider(
                    1,
                    MAX_IMAGES,
                    value=16,
                    step=1,
                    label='Images to generate',
                    elem_id='num')
                seed = gr.Number(
                    value=0,
                    precision=0,
                    minimum=0,
                    label='Seed',
                    elem_id='seed')
                button = gr.Button(
                    'Generate', variant='primary', elem_id='generate')
            with gr.Column(scale=2):
                status = gr.Markdown(elem_id='status')
                shots_out = gr.Gallery(
                    label='Shots, as the model sees them',
                    columns=MAX_SHOTS,
                    height=190,
                    elem_id='shots',
                    elem_classes='pixelated')
                images_out = gr.Gallery(
                    label='Generated',
                    columns=6,
                    height=440,
                    elem_id='generated',
                    elem_classes='pixelated')
                archive = gr.File(label='Download (zip)', elem_id='zip')
        button.click(demo.run,
                     [source, uploads, class_name, k, steps, num, seed],
                     [shots_out, images_out, archive, status])
    return page


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the demo's arguments."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='the config used for training')
    parser.add_argument('checkpoint', help='checkpoint (.pth)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--ema',
        action='store_true',
        help="use the checkpoint's EMA generator weights")
    parser.add_argument(
        '--server-name',
        default='127.0.0.1',
        help='address to serve on (0.0.0.0: every interface)')
    parser.add_argument('--port', type=int, default=7860)
    add_trust_arg(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Load the model and serve the page until interrupted."""
    args = parse_args(argv)
    with friendly_errors('fewshot_gradio'):
        model = load_meta_model(args.config, args.checkpoint, args.device,
                                args.ema, args.trust_checkpoint or None)
        classes = unseen_classes(
            Config.fromfile(args.config), model_image_shape(model))
    # SIGTERM (kill, service stop) ends it like Ctrl+C: outputs deleted
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix='metagan-demo-') as out_root:
        demo = FewShotDemo(model, classes, out_root)
        page = build_page(demo, osp.splitext(osp.basename(args.config))[0])
        try:
            serve(page, args.server_name, args.port)
        except KeyboardInterrupt:  # uvicorn re-raises the signal it stopped on
            pass


async def drop_remote_tags(request, call_next) -> Response:
    """Serve HTML pages without :data:`REMOTE_TAG` tags, so that the page
    loads nothing from outside this server."""
    response = await call_next(request)
    if not response.headers.get('content-type', '').startswith('text/html'):
        return response
    body = b''.join([chunk async for chunk in response.body_iterator])
    headers = {
        k: v
        for k, v in response.headers.items() if k != 'content-length'
    }
    return Response(
        REMOTE_TAG.sub(b'', body), response.status_code, headers=headers)


def serve(page: gr.Blocks, host: str, port: int) -> None:
    """Serve ``page`` on ``host:port`` until interrupted: one request at a
    time, the others queued.  Two at once would not run faster on the same
    cores, and a ``fewshot_init='random'`` model (the scratch baseline)
    seeds torch's global generator for its fresh weights, which two
    requests at once would share."""
    app = FastAPI()
    app.middleware('http')(drop_remote_tags)
    page.queue(max_size=32, default_concurrency_limit=1)
    app = gr.mount_gradio_app(
        app,
        page,
        path='',
        max_file_size=f'{4 * MAX_UPLOAD_MB}mb',
        show_api=False)
    print(
        f'fewshot_gradio: open http://{host}:{port} (Ctrl+C stops)',
        flush=True)
    uvicorn.run(app, host=host, port=port, log_level='warning')


if __name__ == '__main__':
    main()
