# Transfer baseline (configs/_base_/algorithms/transfer.py) with the data,
# nets, optimisers and budget of
# configs/reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py.
#   python tools/train.py configs/baselines/transfer_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/transfer_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py \
#       work_dirs/transfer_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32/iter_N.pth
_base_ = [
    '../_base_/algorithms/transfer.py',
    '../_base_/nets/ln-dcgan-quarter_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(steps=5))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)))
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=600)
default_hooks = dict(checkpoint=dict(interval=200))
