# Plain local-fusion GAN (the LoFGAN baseline) on Omniglot 32x32: meta-train
# alphabets Balinese, Greek, Japanese_(katakana), Latin (121 characters, the
# discriminator's seen classes); unseen Tagalog and Early_Aramaic for
# evaluation. LoFGAN's widths (generator 32, discriminator 64), batch (8
# tasks) and iterations (100k), 4 shots per task.
# METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/fusion.py', '../_base_/nets/local-fusion_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
nets = dict(
    _base_.nets,
    discriminator=dict(_base_.nets.discriminator, num_classes=121))
model = dict(nets)
train_cfg = dict(max_iters=100000)
# LoFGAN: the learning rates decay linearly to 0 over the second half
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1.0,
        end_factor=0.0,
        begin=50000,
        end=100000,
        by_epoch=False)
]
default_hooks = dict(checkpoint=dict(interval=1000))
custom_hooks = [
    dict(_base_.custom_hooks[0], interval=1000, num_classes=6, steps=0)
]
test_cfg = dict(steps=0)
