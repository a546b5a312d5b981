# FAML's algorithm on the embedded glyph data set (no download), CPU-sized:
# faml_cond-ln-dcgan_1xb8-100kiters_omniglot-32x32.py's networks at quarter
# width, 5 inner steps, 4 tasks, outer Adam 5e-4, 600 meta-iterations.
_base_ = [
    '../_base_/algorithms/faml.py',
    '../_base_/nets/cond-g-ln-dcgan-per-image-quarter_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(steps=5, g_lr=1e-3, d_lr=1e-3))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)),
    encoder=dict(optimizer=dict(lr=5e-4)))
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=600)
default_hooks = dict(checkpoint=dict(interval=200))
