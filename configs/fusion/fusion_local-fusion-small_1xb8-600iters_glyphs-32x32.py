# Quick start: a plain local-fusion GAN (LoFGAN-style) on the embedded glyph
# set (no download). Nets at a CPU size (generator and discriminator
# base_channels=16), 8 tasks of 4 shots per iteration, 600 iterations
# (a few minutes on 2 CPU cores). Writes checkpoints and
# samples/fewshot_iter_*.png grids of unseen glyph classes: each class's K
# shots, then new images fused from them with no adaptation step.
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
train_cfg = dict(max_iters=600)
default_hooks = dict(checkpoint=dict(interval=200))
custom_hooks = [dict(_base_.custom_hooks[0], steps=0)]
test_cfg = dict(steps=0)
