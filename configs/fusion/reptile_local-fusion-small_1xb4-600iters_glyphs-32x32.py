# Meta-learned fusion: Reptile on the local-fusion nets (glyphs, CPU size;
# configs/_base_/algorithms/reptile-fusion.py). At test time the nets adapt
# on the K shots of an unseen class (test_cfg.steps) without the class
# terms. Measured on Omniglot in docs/user_guides/fusion.md.
_base_ = [
    '../_base_/algorithms/reptile-fusion.py',
    '../_base_/nets/local-fusion-small_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
# 76 seen glyph classes (the seeded 80/20 class split)
model = dict(_base_.nets, num_classes=76)
train_dataloader = dict(batch_size=4)
train_cfg = dict(max_iters=600)
default_hooks = dict(checkpoint=dict(interval=200))
custom_hooks = [dict(_base_.custom_hooks[0], steps=5)]
test_cfg = dict(steps=5)
