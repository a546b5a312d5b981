# FIGR's setting with FIGR's own networks, as in FIGR's train.py and
# model.py: its DCGAN (configs/_base_/nets/figr-dcgan_32x32.py), one task
# of 4 images per meta-iteration, 10 inner steps of plain SGD (lr 1e-3) on
# WGAN-GP (weight 10), outer Adam (lr 1e-4, torch's default betas) on the
# Reptile direction. FIGR's ResNet: FIGROriginalResNetGenerator /
# FIGROriginalResNetDiscriminator. Differences that remain (README,
# "Against FIGR's own code"): our gradient penalty takes the norm over the
# whole image and the critic loss is mean(D(fake)) - mean(D(real)).
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/reptile.py', '../_base_/nets/figr-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(optimizer='sgd'))
optim_wrapper = dict(
    generator=dict(optimizer=dict(betas=(0.9, 0.999))),
    discriminator=dict(optimizer=dict(betas=(0.9, 0.999))))
train_dataloader = dict(batch_size=1)  # tasks per rank and meta-iteration
train_cfg = dict(max_iters=100000)
