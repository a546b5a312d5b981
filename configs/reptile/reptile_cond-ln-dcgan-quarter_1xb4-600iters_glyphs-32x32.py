# Conditioned Reptile on the embedded glyph data set (no download), CPU-sized:
# the quick start's budget (quarter width, 5 inner steps, 4 tasks, outer
# Adam 5e-4, 600 meta-iterations) with a set encoder whose embedding of the
# K shots conditions G and D. Generation needs no adaptation step
# (test_cfg.steps=0); the visualisation hook shows adapted generations.
_base_ = [
    '../_base_/algorithms/reptile.py',
    '../_base_/nets/cond-ln-dcgan-quarter_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
# L1 between each generation and a real image of the task: with a pooled
# condition it pulls every generation towards the class, not one shot
model = dict(_base_.nets, inner_loop=dict(steps=5, recon_weight=1.0))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)),
    encoder=dict(optimizer=dict(type='Adam', lr=5e-4, betas=(0.5, 0.9))))
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=600)
default_hooks = dict(checkpoint=dict(interval=200))
