# Reptile over mmagic's own DCGAN (BatchNorm) at 64x64 RGB on your classes
# as image folders ($METAGAN_CLASS_FOLDERS/<class>/*.png, default
# data/class_folders): 4 tasks of 4 images per meta-iteration, 5 inner Adam
# steps with mmagic's dcgan recipe (non-saturating loss, Adam betas (0.5,
# 0.999), lr 2e-4). Few-shot test: Inception FID/KID from a local weight
# file (configs/_base_/feature_nets/inception_offline.py).
_base_ = [
    '../_base_/algorithms/reptile.py', '../_base_/nets/dcgan_64x64.py',
    '../_base_/datasets/class-folders_episodic_64x64.py'
]
model = dict(
    _base_.nets,
    inner_loop=dict(
        steps=5,
        g_lr=2e-4,
        d_lr=2e-4,
        betas=(0.5, 0.999),
        loss='nonsaturating'))
optim_wrapper = dict(
    generator=dict(optimizer=dict(betas=(0.5, 0.999))),
    discriminator=dict(optimizer=dict(betas=(0.5, 0.999))))
train_cfg = dict(max_iters=20000)
