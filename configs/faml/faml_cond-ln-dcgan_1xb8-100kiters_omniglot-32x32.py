# FAML's algorithm on this project's smaller networks, Omniglot 32x32: a set
# encoder keeping one embedding per image (pooling='none'), the LayerNorm
# DCGAN generator on [E(x_i), z], the unconditional LayerNorm DCGAN
# discriminator (batches under vmap, unlike FAML's spectrally normalised
# one); FAML's inner losses (RaGAN, mode seeking, L1), 10 inner steps at
# lr 1e-3, outer Adam 1e-4, meta-batch 8 as the other Omniglot configs.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/faml.py',
    '../_base_/nets/cond-g-ln-dcgan-per-image_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(g_lr=1e-3, d_lr=1e-3))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=1e-4)),
    discriminator=dict(optimizer=dict(lr=1e-4)),
    encoder=dict(optimizer=dict(lr=1e-4)))
train_cfg = dict(max_iters=100000)
