"""The tutorial (docs/tutorial.md) as a user follows it: the config and the
commands copied from the page, run on a small generated folder of class
images.  The test adds a tiny budget to each command (``TINY``) and
nothing else; a command the page gains that this test cannot run fails it.
"""
import glob
import json
import os.path as osp
import re
import shlex

import numpy as np
import pytest
from docs_helpers import DOCS, code_blocks, read
from PIL import Image, ImageDraw

TUTORIAL = osp.join(DOCS, 'tutorial.md')
#: What the test appends to each of the page's commands: a tiny budget.
TINY = {
    'train': [
        '--cfg-options', 'train_cfg.max_iters=2', 'model.inner_loop.steps=1',
        'default_hooks.logger.interval=1', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False'
    ],
    'train_feature_extractor': ['--iters', '2'],
    'generate': ['--num', '2'],
    'test': ['--cfg-options', 'test_cfg.num_samples=4'],
}
ASSIGN = re.compile(r'(\w+)=\$\(cat (\S+)\)')


def write_classes(root, classes, images, seed):
    """``root/<class>/<i>.png``: 40x40 RGB, one colour and shape per class,
    jittered per image."""
    rng = np.random.default_rng(seed)
    for c in range(classes):
        folder = root / f'class_{seed}_{c}'
        folder.mkdir(parents=True)
        colour = tuple(int(v) for v in rng.integers(40, 256, 3))
        for i in range(images):
            img = Image.new('RGB', (40, 40), (0, 0, 0))
            x, y = (int(v) for v in rng.integers(2, 12, 2))
            box = [x, y, x + 14 + c, y + 24 - c]
            draw = ImageDraw.Draw(img)
            (draw.ellipse if c % 2 else draw.rectangle)(box, fill=colour)
            img.save(folder / f'{i:03d}.png')


def section(text, title):
    """The text of the page's section whose heading contains ``title``."""
    return text.split(title, 1)[1].split('\n## ', 1)[0]


def commands(text):
    """The page's shell lines, continuation lines joined."""
    for block in code_blocks(text, 'bash'):
        for line in block.replace('\\\n', ' ').splitlines():
            line = line.split(' #')[0].strip()
            if line and not line.startswith('#'):
                yield line


@pytest.mark.slow
def test_tutorial_from_class_folders_to_metrics(tmp_path, monkeypatch, tool):
    text = read(TUTORIAL)
    configs = [
        b for b in code_blocks(text, 'python')
        if b.startswith('# my_fewshot.py')
    ]
    assert len(configs) == 1, 'the page has one config, # my_fewshot.py'
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('LOCAL_RANK', '0')
    monkeypatch.delenv('METAGAN_FEATURE_NET', raising=False)
    (tmp_path / 'my_fewshot.py').write_text(configs[0])
    write_classes(tmp_path / 'data' / 'my_classes', 10, 6, seed=0)
    write_classes(tmp_path / 'data' / 'my_new_classes', 2, 4, seed=1)

    variables, ran, metrics = {}, [], None
    for line in commands(text):
        assign = ASSIGN.fullmatch(line)
        if assign:
            variables[assign[1]] = read(assign[2]).strip()
            continue
        words = [
            re.sub(r'\$(\w+)', lambda m: variables[m[1]], w)
            for w in shlex.split(line)
        ]
        assert words[0] == '.venv/bin/python' and words[1].startswith(
            'tools/'), f'the test cannot run this tutorial line: {line}'
        name = osp.splitext(osp.basename(words[1]))[0]
        out = tool(name).main(words[2:] + TINY.get(name, []))
        ran.append(name)
        if name == 'test':
            metrics = out
    assert ran == ['train', 'generate', 'train_feature_extractor', 'test']

    # 3-4: the split the page describes, and the log keys it explains
    work_dir = tmp_path / 'work_dirs' / 'my_fewshot'
    split = json.loads(
        read(glob.glob(str(work_dir / 'class_split_*_train.json'))[0]))
    parts = split['parts']
    assert (len(parts['train']), len(parts['test'])) == (8, 2)
    log = next(
        text
        for text in map(read, sorted(glob.glob(str(work_dir / '*' / '*.log'))))
        if 'Iter(train)' in text)
    keys = re.findall(r'^\| `(\w+)` \|', section(text, 'Read the logs'), re.M)
    assert len(keys) >= 5
    for key in keys:
        assert re.search(rf'\b{key}: -?\d', log), f'{key} not in the log'
    assert re.search(r'\btasks_skipped: 0\.0', log)

    # 5: two images of each new class and its grid
    for c in range(2):
        folder = tmp_path / 'generated' / f'class_1_{c}'
        assert len(glob.glob(str(folder / 'generated_*.png'))) == 2
        assert (folder / 'grid.png').is_file()

    # 6: the metrics the page names, in their ranges
    named = set(re.findall(r'`(fewshot/\w+)`', section(text, 'Evaluate')))
    assert named and named <= set(metrics), named - set(metrics)
    assert metrics['fewshot/fid'] >= 0
    for key in ('fidelity', 'fidelity_real', 'fidelity_chance'):
        assert 0 <= metrics[f'fewshot/{key}'] <= 1
    assert metrics['fewshot/fidelity_chance'] == pytest.approx(0.5)
    assert metrics['fewshot/novelty_ratio'] > 0
