# Quick start: a short Reptile meta-GAN run (a DCGAN with channel-wise
# LayerNorm in FIGR's spirit, WGAN-GP, 4 shots) on the embedded glyph data
# set; no download. Writes checkpoints and samples/fewshot_iter_*.png grids
# (support row | adapted generations) for unseen glyph classes. Quick-start
# budget (a few CPU minutes): the nets at a quarter of the width, 5 inner
# steps instead of 10, 4 tasks per meta-batch, a larger outer learning rate.
# reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py has the full width and
# steps, reptile_figr-dcgan_1xb1-100kiters_omniglot-32x32.py FIGR's own
# networks and setting.
_base_ = [
    '../_base_/algorithms/reptile.py',
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
