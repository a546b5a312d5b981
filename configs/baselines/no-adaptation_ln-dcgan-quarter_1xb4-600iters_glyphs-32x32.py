# No-adaptation baseline: the meta-model itself (test_cfg.steps=0), i.e. the
# meta-learned initialisation's generations, not adapted to the K images.
# Evaluate a meta-trained (Reptile) checkpoint with it:
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/no-adaptation_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py \
#       work_dirs/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32/iter_N.pth
_base_ = ['../reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py']
test_cfg = dict(steps=0)
