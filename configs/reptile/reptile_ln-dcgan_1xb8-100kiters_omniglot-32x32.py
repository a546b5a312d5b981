# Reptile on Omniglot 32x32 after FIGR: WGAN-GP, 4 shots, 10 inner steps,
# inner lr 1e-3 (Adam), outer Adam 1e-4, meta-batch 8 tasks, with the
# project's DCGAN in FIGR's spirit (1.73M parameters, G + D). FIGR's own
# networks and optimisers: reptile_figr-dcgan_1xb1-100kiters_omniglot-32x32.py.
# Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/reptile.py', '../_base_/nets/ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets)
train_cfg = dict(max_iters=100000)
