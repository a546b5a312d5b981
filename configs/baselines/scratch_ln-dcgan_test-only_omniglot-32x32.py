# From-scratch baseline (configs/_base_/algorithms/scratch.py), test only:
# no meta-training; for every unseen Omniglot class fresh full-width nets
# take 10 inner steps on the class's K images, the adaptation of
# configs/reptile/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py.
# tools/test.py wants a checkpoint of the same nets, whose weights are not
# used; benchmarks/bench_fewshot_results.py builds the runner without one.
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/scratch_ln-dcgan_test-only_omniglot-32x32.py ANY_CKPT.pth
_base_ = [
    '../_base_/algorithms/scratch.py', '../_base_/nets/ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets)
