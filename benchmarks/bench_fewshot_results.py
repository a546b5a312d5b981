"""Few-shot generation results: meta-learners vs. three baselines.

    python benchmarks/bench_fewshot_results.py [--data {omniglot,glyphs}]
        [--iters N] [--num-samples M] [--jobs J] [--fnet-iters N]
        [--work-dir DIR] [--out-dir benchmarks/results] [--models ...]
        [--reuse] [--merge] [--init-from CKPT] [--amp] [--seed S]
        [--cfg-options KEY=VALUE ...]

Omniglot (``../shared/data/omniglot`` or ``$METAGAN_OMNIGLOT``): meta-train
on Balinese, Greek, Japanese_(katakana) and Latin, evaluate on the unseen
Tagalog and Early_Aramaic characters, K=4, 32x32. Without the data the
script says so and stops; ``--data glyphs`` runs on the embedded glyph set.

Every model is trained with ``tools/train.py`` (same runner, via
``metagan_mm.utils.runner_setup.build_runner``) in its own subprocess on an
equal budget (``--iters`` meta-iterations of 4 tasks; LN-DCGAN nets
(``FIGRDCGAN*``, in FIGR's spirit) at a quarter width,
``base_channels=16``; 5 inner steps):

* Reptile (configs/reptile), first-order MAML (configs/maml,
  ``first_order=True``), first-order Meta-SGD (configs/meta_sgd);
* transfer: a GAN pretrained on the pooled meta-training images
  (configs/baselines/transfer_*, ``TransferGAN``).

The domain feature network is trained once on the meta-training classes
(``tools/train_feature_extractor.py``). Then the same ``FewShotTestLoop``
(``--num-samples`` images per unseen class, 5 adaptation steps) evaluates
each trained model plus the *scratch* baseline (fresh weights per class,
configs/baselines/scratch_*) and *no adaptation* (the Reptile meta-model,
``test_cfg.steps=0``). Adaptation time per class (adapt + generate, measured
around ``model.fewshot_step``) is recorded. One markdown table goes to
stdout and ``<out-dir>/<data>_results.md``; one sample grid per model
(each row: the K support images | generations) to
``<out-dir>/<data>_<model>.png``.

Processes run ``--jobs`` at a time (default 2) with one torch thread each.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional

from mmengine.config import DictAction

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)

DEFAULT_OMNIGLOT = osp.join(REPO, '..', 'shared', 'data', 'omniglot')
STEPS = 5
TASKS_PER_ITER = 4

# The module and schedule fields of the config names, per data set.
MODULE_SCHEDULE = {
    'glyphs': {
        'reptile': 'ln-dcgan-quarter_1xb4-600iters',
        'maml': 'ln-dcgan-quarter_1xb4-200iters',
        'cond-reptile': 'cond-ln-dcgan-quarter_1xb4-600iters',
        'cond-maml': 'cond-ln-dcgan-quarter_1xb4-200iters',
        'fusion': 'local-fusion-small_1xb8-600iters',
        'test-only': 'ln-dcgan-quarter_test-only'
    },
    'omniglot': {
        'reptile': 'ln-dcgan_1xb8-100kiters',
        'maml': 'ln-dcgan_1xb8-50kiters',
        'cond-reptile': 'cond-ln-dcgan_1xb8-100kiters',
        'cond-maml': 'cond-ln-dcgan_1xb8-50kiters',
        'fusion': 'local-fusion_1xb8-100kiters',
        'test-only': 'ln-dcgan_test-only'
    },
}
ENCODER = {
    'model.encoder.base_channels': 16,
    'optim_wrapper.encoder.optimizer.lr': 5e-4
}
# LoFGAN's learning rate: at the common 5e-4 the 250-iteration run of plain
# fusion collapsed (fidelity at chance)
FUSION_LR = {
    'optim_wrapper.generator.optimizer.lr': 1e-4,
    'optim_wrapper.discriminator.optimizer.lr': 1e-4
}
FUSION_META = dict(
    FUSION_LR, **{
        'optim_wrapper.generator.optimizer.weight_decay': 0.0,
        'optim_wrapper.discriminator.optimizer.weight_decay': 0.0
    })
FOMAML_FUSION = dict(
    FUSION_META, **{
        'model.algorithm.type': 'MAML',
        'model.algorithm.num_support': 4,
        'model.algorithm.first_order': True,
        'train_dataloader.dataset.num_query': 4
    })
# the inner loop adapts as at test time: without the (seen) class label
FOMAML_FUSION_NOLABEL = dict(FOMAML_FUSION,
                             **{'model.algorithm.adapt_without_label': True})
# name -> (config relative to configs/ with {d}: data set, {r}/{m}: the
# Reptile/MAML module and schedule fields, {cr}/{cm}: their conditioned
# ones, {f}: the fusion model's, {t}: the module and 'test-only' of the
# untrained baselines; extra cfg-options, label)
TRAINED = {
    'reptile': ('reptile/reptile_{r}_{d}-32x32.py', {}, 'Reptile (FIGR)'),
    'fomaml': ('maml/maml_{m}_{d}-32x32.py', {
        'model.first_order': True
    }, 'MAML, first order'),
    'meta-sgd': ('meta-sgd/meta-sgd_{m}_{d}-32x32.py', {
        'model.first_order': True
    }, 'Meta-SGD, first order'),
    'transfer': ('baselines/transfer_{r}_{d}-32x32.py', {},
                 'Transfer (pooled GAN + fine-tune)'),
    'cond-reptile':
    ('reptile/reptile_{cr}_{d}-32x32.py', ENCODER, 'Conditioned Reptile'),
    'cond-fomaml': ('maml/maml_{cm}_{d}-32x32.py',
                    dict(ENCODER, **{'model.first_order':
                                     True}), 'Conditioned MAML, first order'),
    'faml':
    ('faml/faml_{cr}_{d}-32x32.py',
     dict(ENCODER, **{
         'model.inner_loop.g_lr': 1e-3,
         'model.inner_loop.d_lr': 1e-3
     }), 'FAML (our small nets)'),
    'fusion': ('fusion/fusion_{f}_{d}-32x32.py', FUSION_LR,
               'Plain fusion (LoFGAN baseline)'),
    # meta-learned fusion: the same nets, objective and outer Adam (without
    # weight decay, which would shrink the meta-weights every step)
    'reptile-fusion': ('fusion/fusion_{f}_{d}-32x32.py',
                       dict(FUSION_META, **{'model.algorithm.type':
                                            'Reptile'}), 'Reptile fusion'),
    'fomaml-fusion': ('fusion/fusion_{f}_{d}-32x32.py', FOMAML_FUSION,
                      'MAML fusion, first order'),
    'fomaml-fusion-nolabel':
    ('fusion/fusion_{f}_{d}-32x32.py', FOMAML_FUSION_NOLABEL,
     'MAML fusion, first order, unlabelled inner loop'),
    'maml-fusion-nolabel':
    ('fusion/fusion_{f}_{d}-32x32.py',
     dict(FOMAML_FUSION_NOLABEL,
          **{'model.algorithm.first_order':
             False}), 'MAML fusion, second order, unlabelled inner loop'),
    # the inner rates start at the inner loop's 1e-4 (Adam)
    'meta-sgd-fusion-nolabel':
    ('fusion/fusion_{f}_{d}-32x32.py',
     dict(
         FOMAML_FUSION_NOLABEL, **{
             'model.algorithm.type': 'MetaSGD',
             'optim_wrapper.inner_rates.optimizer.type': 'Adam',
             'optim_wrapper.inner_rates.optimizer.lr': 1e-5
         }), 'Meta-SGD fusion, first order, unlabelled inner loop'),
}
#: The fusion models trained from ``--init-from`` when it is given.
META_FUSION = ('reptile-fusion', 'fomaml-fusion', 'fomaml-fusion-nolabel',
               'maml-fusion-nolabel', 'meta-sgd-fusion-nolabel')
# name -> (config, checkpoint of which trained model (None: none), label,
# adaptation steps)
EVALUATED = {
    'reptile':
    ('reptile/reptile_{r}_{d}-32x32.py', 'reptile', 'Reptile (FIGR)', STEPS),
    'reptile-20': ('reptile/reptile_{r}_{d}-32x32.py', 'reptile',
                   'Reptile (FIGR), 20 steps', 20),
    'fomaml':
    ('maml/maml_{m}_{d}-32x32.py', 'fomaml', 'MAML, first order', STEPS),
    'meta-sgd': ('meta-sgd/meta-sgd_{m}_{d}-32x32.py', 'meta-sgd',
                 'Meta-SGD, first order', STEPS),
    'transfer': ('baselines/transfer_{r}_{d}-32x32.py', 'transfer',
                 'Transfer (pooled GAN + fine-tune)', STEPS),
    'scratch': ('baselines/scratch_{t}_{d}-32x32.py', None,
                'Scratch (fresh GAN on the K images)', STEPS),
    'no-adaptation': ('baselines/no-adaptation_{t}_{d}-32x32.py', 'reptile',
                      'No adaptation (Reptile meta-model)', 0),
}
for _name in ('cond-reptile', 'cond-fomaml', 'faml', 'fusion') + META_FUSION:
    for _steps in (0, STEPS, 20):
        EVALUATED[f'{_name}-{_steps}'] = (TRAINED[_name][0], _name,
                                          f'{TRAINED[_name][2]}, {_steps} '
                                          'steps', _steps)


def config_name(template: str, data: str) -> str:
    """A config path of ``TRAINED``/``EVALUATED`` for data set ``data``."""
    fields = MODULE_SCHEDULE[data]
    return template.format(
        d=data,
        r=fields['reptile'],
        m=fields['maml'],
        cr=fields['cond-reptile'],
        cm=fields['cond-maml'],
        f=fields['fusion'],
        t=fields['test-only'])


def common_options(iters: int) -> Dict[str, object]:
    """Overrides shared by every model: CPU-sized nets, budget, no hooks."""
    return {
        'model.generator.base_channels': 16,
        'model.discriminator.base_channels': 16,
        'model.inner_loop.steps': STEPS,
        'optim_wrapper.generator.optimizer.lr': 5e-4,
        'optim_wrapper.discriminator.optimizer.lr': 5e-4,
        'train_dataloader.batch_size': TASKS_PER_ITER,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_cfg.max_iters': iters,
        'default_hooks.checkpoint.interval': iters,
        'default_hooks.checkpoint.max_keep_ckpts': 1,
        'default_hooks.logger.interval': max(1, min(50, iters // 4)),
        'custom_hooks': [],
    }


def shown_path(path: str) -> str:
    """``path`` as the results files show it: relative to the repository
    inside it, else ``<file name>`` (no paths of this machine)."""
    path = osp.abspath(path)
    if osp.commonpath([path, REPO]) == REPO:
        return osp.relpath(path, REPO)
    return f'<{osp.basename(path)}>'


def as_cli(options: Dict[str, object]) -> List[str]:
    """``k=v`` strings for ``--cfg-options``."""
    out = []
    for k, v in options.items():
        if isinstance(v, bool):
            v = str(v)
        elif isinstance(v, list):
            v = '[' + ','.join(map(str, v)) + ']'
        out.append(f'{k}={v}')
    return out


def run(cmd: List[str], log: str, env: dict) -> float:
    """Run a subprocess, log to a file, raise on failure; return seconds."""
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.run(
            cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{" ".join(cmd)} failed (see {log}):\n{tail}')
    return time.time() - start


# ------------------------------------------------------------------ worker
def eval_worker(spec_path: str) -> None:
    """Evaluate one model in this process (called in a subprocess)."""
    import torch
    from mmengine.model import is_model_wrapper
    from torchvision.utils import save_image

    import metagan_mm  # noqa: F401
    from metagan_mm.utils.runner_setup import build_runner

    with open(spec_path) as f:
        spec = json.load(f)
    torch.set_num_threads(1)
    runner = build_runner(
        spec['config'],
        work_dir=spec['work_dir'],
        cfg_options=spec['options'],
        checkpoint=spec['checkpoint'],
        amp=spec['amp'])
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    stats = {'seconds': 0.0, 'classes': 0, 'first': None}
    fewshot_step = model.fewshot_step

    def timed(data, *args, **kwargs):
        start = time.perf_counter()
        out = fewshot_step(data, *args, **kwargs)
        stats['seconds'] += time.perf_counter() - start
        stats['classes'] += len(out)
        if stats['first'] is None:
            stats['first'] = out
        return out

    model.fewshot_step = timed
    metrics = runner.test()
    rows = []
    for item in (stats['first'] or [])[:4]:
        rows.append(torch.cat([item['support'], item['fake'][:8]]))
    if rows:
        grid = torch.cat(rows)
        save_image(
            (grid + 1) / 2,
            spec['grid'],
            nrow=rows[0].shape[0],
            padding=1,
            pad_value=0.5)
    out = {k: float(v) for k, v in metrics.items()}
    out['adapt_seconds_per_class'] = stats['seconds'] / max(
        stats['classes'], 1)
    out['num_classes'] = stats['classes']
    with open(spec['result'], 'w') as f:
        json.dump(out, f, indent=1)


# ------------------------------------------------------------------ driver
def fmt(x: Optional[float], digits: int = 2) -> str:
    return '-' if x is None else f'{x:.{digits}f}'


def table(results: Dict[str, dict], train_times: Dict[str, float],
          args: argparse.Namespace, fnet_acc: str) -> str:
    """The markdown results table and its budget line."""
    lines = [
        '| model | FID | KID x1e3 | diversity (gen / real) | fidelity '
        '(real / chance) | novelty ratio | pixel novelty ratio | SWD avg | '
        'adapt s/class | train min |',
        '|---|---|---|---|---|---|---|---|---|---|',
    ]
    for name, (_, ckpt_of, label, _) in EVALUATED.items():
        r = results.get(name)
        if r is None:
            continue
        g = r.get
        train = train_times.get(ckpt_of)
        lines.append(f'| {label} | {fmt(g("fewshot/fid"), 1)} | '
                     f'{fmt(1e3 * g("fewshot/kid", float("nan")), 1)} | '
                     f'{fmt(g("fewshot/diversity"), 3)} / '
                     f'{fmt(g("fewshot/diversity_real"), 3)} | '
                     f'{fmt(g("fewshot/fidelity"), 3)} '
                     f'({fmt(g("fewshot/fidelity_real"), 2)} / '
                     f'{fmt(g("fewshot/fidelity_chance"), 3)}) | '
                     f'{fmt(g("fewshot/novelty_ratio"), 2)} | '
                     f'{fmt(g("fewshot/pixel_novelty_ratio"), 2)} | '
                     f'{fmt(g("fewshot_swd/avg"), 1)} | '
                     f'{fmt(g("adapt_seconds_per_class"), 3)} | '
                     f'{fmt(train / 60 if train else None, 1)} |')
    n_cls = next((int(r['num_classes']) for r in results.values()), 0)
    budget = (
        f'Budget: {args.iters} meta-iterations x {TASKS_PER_ITER} tasks per '
        f'trained model (Reptile: 4 images per task; MAML/Meta-SGD: 4 support '
        f'+ 4 query; transfer: {args.iters} plain GAN steps, each on the '
        f'{TASKS_PER_ITER}x4 pooled images of a meta-batch), LN-DCGAN at '
        'base_channels=16, '
        f'outer Adam lr 5e-4, {STEPS} inner steps in training (FAML: '
        'each of 2 D updates and one G+E update); adaptation steps as the '
        f'row says, else {STEPS} (scratch: from fresh weights; no '
        'adaptation: 0). Conditioned models: set encoder at base_channels=16 '
        '(pooled for Reptile/MAML, per image for FAML). Plain fusion: '
        f'{args.iters} iterations of {TASKS_PER_ITER} tasks, each one D and '
        'one G Adam step at the same weights (LoFGAN\'s losses and lr 1e-4; '
        'FusionGAN), '
        'LocalFusionGenerator and ClassHeadResNetDiscriminator at '
        'base_channels=16; its 5/20-step rows adapt copies of G and D on the '
        'K shots with the inner loop (Adam 1e-4, no class term). '
        'Meta-learned fusion (Reptile; MAML, Meta-SGD on 4 support + 4 '
        f'query images): the same nets and objective, {args.iters} '
        f'meta-iterations of {TASKS_PER_ITER} tasks, {STEPS} inner Adam '
        'steps (1e-4) per task, outer Adam 1e-4 without weight decay' +
        (f', starting from {shown_path(args.init_from)}'
         if args.init_from else '') + '. ' +
        (f'Every model with --cfg-options {" ".join(as_cli(args.cfg_options))}'
         '. ' if args.cfg_options else '') +
        f'Data: {args.data}, K=4, 32x32, {n_cls} unseen classes, '
        f'{args.num_samples} generations per class. CPU, '
        f'{args.jobs} processes x 1 torch thread; train min is wall time '
        'with a shared CPU. Metrics: domain feature net trained on the '
        f'meta-training classes only ({fnet_acc}); KID x1e3; fidelity = '
        'nearest-class-mean accuracy of the generations among the unseen '
        'classes; novelty ratio = nearest-shot distance of the generations '
        'over that of the real references, in features and in pixels (mean '
        '|difference|; "-": the row was measured before the pixel ratio '
        'existed); adapt s/class = adaptation + generation per class.')
    return '\n'.join(lines) + '\n\n' + budget + '\n'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--data', choices=['omniglot', 'glyphs'], default='omniglot')
    parser.add_argument(
        '--iters',
        type=int,
        default=300,
        help='meta-iterations per trained model (300: the '
        'whole script takes ~25 min on 2 cores)')
    parser.add_argument('--num-samples', type=int, default=32)
    parser.add_argument(
        '--jobs',
        type=int,
        default=2,
        help='processes at a time (1 torch thread each)')
    parser.add_argument('--fnet-iters', type=int, default=400)
    parser.add_argument(
        '--work-dir',
        default=osp.join(REPO, 'work_dirs', 'bench_fewshot_results'))
    parser.add_argument(
        '--out-dir', default=osp.join(REPO, 'benchmarks', 'results'))
    parser.add_argument(
        '--models',
        nargs='+',
        choices=list(TRAINED) + ['scratch'],
        default=list(TRAINED) + ['scratch'],
        help='models to train and evaluate (rows of the others are left '
        'out)')
    parser.add_argument(
        '--reuse',
        action='store_true',
        help='keep the feature net, the trained models and the '
        'evaluations (those newer than their checkpoint) of an earlier run '
        'in --work-dir (same --iters)')
    parser.add_argument(
        '--merge',
        action='store_true',
        help='add the rows of --models to those of <out-dir>/<data>_'
        'results.json (an earlier run with the same --iters) instead of '
        'replacing the table')
    parser.add_argument(
        '--init-from',
        help='a checkpoint of the fusion nets (e.g. plain fusion\'s '
        'iter_N.pth) that the meta-learned fusion models '
        f'({", ".join(META_FUSION)}) start from (load_from) instead of '
        'fresh weights')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='train and adapt every model with --amp (the inner loop '
        'under autocast: bf16 on the CPU)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of every training run: its initial weights '
        '(randomness.seed), task stream (train_dataloader.dataset.seed) '
        'and inner-loop noise (model.seed), for run-to-run scatter')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        metavar='KEY=VALUE',
        help='more config overrides for every training and evaluation of '
        'this run (after the table\'s own), e.g. model.objective.recon=0.1')
    parser.add_argument('--worker-eval', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker_eval:
        eval_worker(args.worker_eval)
        return 0

    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        PYTHONWARNINGS='ignore')
    if args.data == 'omniglot':
        root = os.environ.get('METAGAN_OMNIGLOT', DEFAULT_OMNIGLOT)
        if not osp.isdir(osp.join(root, 'images_background')):
            print(f'Omniglot not found at {root} (set METAGAN_OMNIGLOT); '
                  'skipping. Run with --data glyphs for the embedded glyph '
                  'set.')
            return 0
        env['METAGAN_OMNIGLOT'] = osp.abspath(root)
    wd = osp.abspath(args.work_dir)
    os.makedirs(wd, exist_ok=True)
    os.makedirs(args.out_dir, exist_ok=True)
    py = sys.executable
    fnet = osp.join(wd, 'feature_net.pth')
    env['METAGAN_FEATURE_NET'] = fnet
    t0 = time.time()

    # ---- phase 1: feature net + the four trainings
    def train(name: str) -> float:
        cfg, extra, _ = TRAINED[name]
        done = osp.join(wd, f'train_{name}.seconds')
        if args.reuse and osp.exists(done) and osp.exists(
                osp.join(wd, name, f'iter_{args.iters}.pth')):
            with open(done) as f:
                return float(f.read())
        opts = dict(common_options(args.iters), **extra)
        if args.init_from and name in META_FUSION:
            opts['load_from'] = osp.abspath(args.init_from)
        # the run's seed: initial weights, the task stream and the
        # inner-loop noise (the last two have their own seeds)
        opts.update({
            'randomness.seed': args.seed,
            'train_dataloader.dataset.seed': args.seed,
            'model.seed': args.seed
        })
        opts.update(args.cfg_options)
        cmd = [
            py, 'tools/train.py',
            osp.join('configs', config_name(cfg, args.data)), '--work-dir',
            osp.join(wd, name)
        ] + ['--amp'] * args.amp + ['--cfg-options'] + as_cli(opts)
        secs = run(cmd, osp.join(wd, f'train_{name}.log'), env)
        print(
            f'[{time.time() - t0:6.0f}s] trained {name} in {secs:.0f}s',
            flush=True)
        with open(done, 'w') as f:
            f.write(str(secs))
        return secs

    def train_fnet() -> float:
        if args.reuse and osp.exists(fnet):
            return 0.0
        cfg = osp.join('configs', config_name(TRAINED['reptile'][0],
                                              args.data))
        cmd = [
            py, 'tools/train_feature_extractor.py', cfg, '--out', fnet,
            '--iters',
            str(args.fnet_iters), '--threads', '1'
        ]
        secs = run(cmd, osp.join(wd, 'feature_net.log'), env)
        print(
            f'[{time.time() - t0:6.0f}s] feature net in {secs:.0f}s',
            flush=True)
        return secs

    train_times: Dict[str, float] = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        fnet_future = pool.submit(train_fnet)
        futures = {
            n: pool.submit(train, n)
            for n in TRAINED if n in args.models
        }
        for n, fut in futures.items():
            try:
                train_times[n] = fut.result()
            except RuntimeError as err:
                print(f'training of {n} failed: {err}', flush=True)
        fnet_future.result()
    fnet_acc = 'see feature_net.log'
    with open(osp.join(wd, 'feature_net.log')) as f:
        for line in f:
            if 'held-out' in line and 'accuracy' in line:
                fnet_acc = 'held-out accuracy ' + line.split(
                    'held-out')[-1].split(';')[0].strip()

    # ---- phase 2: the same FewShotTestLoop for every model
    def evaluate(name: str) -> dict:
        cfg, ckpt_of, _, steps = EVALUATED[name]
        extra = dict(TRAINED.get(ckpt_of, (None, {}))[1]) if ckpt_of else {}
        opts = dict(common_options(args.iters), **extra)
        opts.update(args.cfg_options)
        opts['test_cfg.num_samples'] = args.num_samples
        if name != 'no-adaptation':
            opts['test_cfg.steps'] = steps
        ckpt = osp.join(wd, ckpt_of, f'iter_{args.iters}.pth') \
            if ckpt_of else None
        spec = dict(
            config=osp.join(REPO, 'configs', config_name(cfg, args.data)),
            work_dir=osp.join(wd, f'eval_{name}'),
            options=opts,
            checkpoint=ckpt,
            amp=args.amp,
            grid=osp.join(args.out_dir, f'{args.data}_{name}.png'),
            result=osp.join(wd, f'eval_{name}.json'))
        if args.reuse and osp.exists(
                spec['result']) and (ckpt is None or osp.getmtime(
                    spec['result']) > osp.getmtime(ckpt)):
            with open(spec['result']) as f:
                return json.load(f)
        spec_path = osp.join(wd, f'eval_{name}_spec.json')
        with open(spec_path, 'w') as f:
            json.dump(spec, f)
        secs = run([py, osp.abspath(__file__), '--worker-eval', spec_path],
                   osp.join(wd, f'eval_{name}.log'), env)
        print(
            f'[{time.time() - t0:6.0f}s] evaluated {name} in {secs:.0f}s',
            flush=True)
        with open(spec['result']) as f:
            return json.load(f)

    results: Dict[str, dict] = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        futures = {
            n: pool.submit(evaluate, n)
            for n, spec in EVALUATED.items() if spec[1] in train_times or (
                spec[1] is None and 'scratch' in args.models)
        }
        for n, fut in futures.items():
            try:
                results[n] = fut.result()
            except RuntimeError as err:
                print(f'evaluation of {n} failed: {err}', flush=True)
    summary = osp.join(args.out_dir, f'{args.data}_results.json')
    if args.merge and osp.exists(summary):
        with open(summary) as f:
            earlier = json.load(f)
        if earlier.get('iters') != args.iters:
            raise SystemExit(f'--merge: {summary} was made with --iters '
                             f'{earlier.get("iters")}, not {args.iters}.')
        results = dict(earlier['results'], **results)
        train_times = dict(earlier['train_seconds'], **train_times)
    text = table(results, train_times, args, fnet_acc)
    text += f'\nTotal wall time: {(time.time() - t0) / 60:.1f} min.\n'
    print(text)
    with open(osp.join(args.out_dir, f'{args.data}_results.md'), 'w') as f:
        f.write(f'# Few-shot results ({args.data})\n\n'
                'Made by `benchmarks/bench_fewshot_results.py '
                f'--data {args.data} --iters {args.iters} --num-samples '
                f'{args.num_samples}' +
                (f' --init-from {shown_path(args.init_from)}' if args.
                 init_from else '') + ' --amp' * args.amp +
                (f' --seed {args.seed}' if args.seed else '') + '`.\n\n' +
                text)
    with open(summary, 'w') as f:
        json.dump(
            dict(results=results, train_seconds=train_times, iters=args.iters),
            f,
            indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
