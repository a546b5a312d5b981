# Plain local-fusion GAN (the LoFGAN baseline) on Omniglot 32x32: meta-train
# alphabets Balinese, Greek, Japanese_(katakana), Latin (121 characters, the
# discriminator's seen classes); unseen Tagalog and Early_Aramaic for
# evaluation. LoFGAN's widths (generator 32, discriminator 64), batch (8
# tasks), iterations (100k) and learning-rate decay
# (algorithms/fusion-lofgan.py), 4 shots per task.
# METAGAN_OMNIGLOT=PATH python tools/train.py ...
_base_ = [
    '../_base_/algorithms/fusion-lofgan.py',
    '../_base_/nets/local-fusion_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets, num_classes=121)
train_cfg = dict(max_iters=100000)
custom_hooks = [dict(_base_.custom_hooks[0], steps=0)]
test_cfg = dict(steps=0)
