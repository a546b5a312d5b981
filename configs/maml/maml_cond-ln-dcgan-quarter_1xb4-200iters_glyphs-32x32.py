# Conditioned MAML on the embedded glyph data set (no download), CPU-sized:
# the project's FIGR-spirit DCGAN at quarter width, 4 tasks of 4 support + 4
# query images; a set encoder embeds the support set into the generator's
# condition (the discriminator stays unconditional:
# configs/_base_/nets/cond-g-ln-dcgan_32x32.py).
_base_ = [
    '../_base_/algorithms/maml.py',
    '../_base_/nets/cond-g-ln-dcgan-quarter_32x32.py',
    '../_base_/datasets/glyphs_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(recon_weight=1.0))
optim_wrapper = dict(
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
train_dataloader = dict(batch_size=4, dataset=dict(num_query=4))
train_cfg = dict(max_iters=200)
default_hooks = dict(checkpoint=dict(interval=100))
custom_hooks = [dict(_base_.custom_hooks[0], interval=100)]
