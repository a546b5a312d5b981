# Plain local-fusion GAN on the embedded glyph set (no download): the
# quick-start candidate. Nets at a CPU size (generator base_channels=16,
# discriminator 16), 8 tasks of 4 shots per iteration, 3000 iterations
# (about 15 minutes on one core of a shared 2-core machine). Writes
# checkpoints and samples/fewshot_iter_*.png grids (the K shots | fusions)
# of unseen glyph classes; no adaptation step.
_base_ = [
    '../_base_/algorithms/fusion.py',
    '../_base_/nets/local-fusion-small_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
# 76 seen glyph classes (the seeded 80/20 class split)
model = dict(_base_.nets, num_classes=76)
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)))
train_cfg = dict(max_iters=3000)
default_hooks = dict(checkpoint=dict(interval=500))
custom_hooks = [dict(_base_.custom_hooks[0], interval=500, steps=0)]
test_cfg = dict(steps=0)
