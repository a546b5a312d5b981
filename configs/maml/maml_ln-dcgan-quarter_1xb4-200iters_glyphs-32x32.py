# MAML meta-GAN on the embedded glyph data set (no download), CPU-sized:
# the project's FIGR-spirit DCGAN at quarter width, 4 tasks of 4 support + 4
# query images.
_base_ = [
    '../_base_/algorithms/maml.py', '../_base_/nets/ln-dcgan-quarter_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
model = dict(_base_.nets)
train_dataloader = dict(batch_size=4, dataset=dict(num_query=4))
train_cfg = dict(max_iters=200)
default_hooks = dict(checkpoint=dict(interval=100))
custom_hooks = [dict(_base_.custom_hooks[0], interval=100)]
