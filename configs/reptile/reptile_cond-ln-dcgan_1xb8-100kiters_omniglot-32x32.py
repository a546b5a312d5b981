# Conditioned Reptile on Omniglot 32x32: the settings of
# reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py (10 inner Adam steps,
# meta-batch 8, outer Adam 1e-4, WGAN-GP) with a set encoder whose embedding
# of the K shots conditions G and D. The encoder is a third meta-module:
# adapted with G in every inner step and meta-trained by Reptile with G and
# D. Generation embeds the K shots, so it needs no gradient step
# (test_cfg.steps=0) and adaptation refines it.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/reptile.py', '../_base_/nets/cond-ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
# L1 between each generation and a real image of the task: with a pooled
# condition it pulls every generation towards the class, not one shot
model = dict(_base_.nets, inner_loop=dict(recon_weight=1.0))
optim_wrapper = dict(
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
train_cfg = dict(max_iters=100000)
