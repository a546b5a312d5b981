# FAML's setting on Omniglot 32x32: FAML's networks (13.5M parameters, E + G
# + D), one task of 4 images per meta-iteration, 10 inner steps of 2 D
# updates and one G+E update (Adam 2e-4), RaGAN + mode seeking + L1, outer
# Adam 1e-5 on G, D and E. Spectral norm in D makes the tasks run one at a
# time. Point it at your copy: METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/faml.py', '../_base_/nets/faml-nets_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets)
train_dataloader = dict(batch_size=1)
train_cfg = dict(max_iters=100000)
