# From-scratch baseline (configs/_base_/algorithms/scratch.py), test only:
# no meta-training; for every unseen glyph class fresh quarter-width nets
# take 5 inner steps on the class's K images, the adaptation of
# configs/reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py.
# tools/test.py wants a checkpoint of the same nets, whose weights are not
# used; benchmarks/bench_fewshot_results.py builds the runner without one.
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/scratch_ln-dcgan-quarter_test-only_glyphs-32x32.py ANY_CKPT.pth
_base_ = [
    '../_base_/algorithms/scratch.py',
    '../_base_/nets/ln-dcgan-quarter_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(steps=5))
