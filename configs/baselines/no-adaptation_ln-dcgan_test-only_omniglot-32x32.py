# No-adaptation baseline, test only: the meta-model itself
# (test_cfg.steps=0), i.e. the meta-learned initialisation's generations,
# not adapted to the K images. Evaluate a checkpoint of
# configs/reptile/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py:
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/no-adaptation_ln-dcgan_test-only_omniglot-32x32.py \
#       work_dirs/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32/iter_N.pth
_base_ = [
    '../_base_/algorithms/reptile.py', '../_base_/nets/ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets)
test_cfg = dict(steps=0)
