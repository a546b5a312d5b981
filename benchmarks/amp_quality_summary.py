"""The results benchmark's Reptile rows in fp32 and under ``--amp``, over
seeds: mean and range of FID, fidelity and diversity.

Each ``<variant>_seed<S>/omniglot_results.json`` under ``--dir`` is one
run of::

    python benchmarks/bench_fewshot_results.py --data omniglot --iters 250 \\
        --num-samples 32 --models reptile --seed S [--amp] \\
        --out-dir benchmarks/results/amp_quality/<variant>_seed<S>

(``variant``: ``fp32`` or ``bf16``), all with the same feature network.

    python benchmarks/amp_quality_summary.py \
        [--dir benchmarks/results/amp_quality]
"""
import argparse
import glob
import json
import os.path as osp
import statistics
from typing import Dict, List, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
ROWS = {
    'reptile': 'Reptile, 5 steps',
    'reptile-20': 'Reptile, 20 steps',
    'no-adaptation': 'Reptile, 0 steps'
}
METRICS = (('fewshot/fid', 'FID', 1), ('fewshot/fidelity', 'fidelity', 3),
           ('fewshot/diversity', 'diversity', 3))


def collect(folder: str) -> Dict[Tuple[str, str], List[dict]]:
    """``(row, variant) -> [metrics of each seed]``."""
    out: Dict[Tuple[str, str], List[dict]] = {}
    pattern = osp.join(folder, '*_seed*', 'omniglot_results.json')
    for path in sorted(glob.glob(pattern)):
        variant = osp.basename(osp.dirname(path)).split('_seed')[0]
        with open(path) as f:
            results = json.load(f)['results']
        for row in ROWS:
            if row in results:
                out.setdefault((row, variant), []).append(results[row])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--dir',
        default=osp.join(ROOT, 'benchmarks', 'results', 'amp_quality'))
    args = parser.parse_args()
    rows = collect(args.dir)
    print('| row | precision | seeds | ' +
          ' | '.join(f'{label} mean [min, max]'
                     for _, label, _ in METRICS) + ' |')
    print('|---|---|---|' + '---|' * len(METRICS))
    for (row, variant), runs in sorted(
            rows.items(),
            key=lambda kv: (list(ROWS).index(kv[0][0]), kv[0][1] != 'fp32')):
        cells = []
        for key, _, digits in METRICS:
            values = [r[key] for r in runs]
            cells.append(f'{statistics.mean(values):.{digits}f} '
                         f'[{min(values):.{digits}f}, '
                         f'{max(values):.{digits}f}]')
        print(f'| {ROWS[row]} | {variant} | {len(runs)} | ' +
              ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
