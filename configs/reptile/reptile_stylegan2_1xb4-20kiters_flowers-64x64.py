# Reptile over mmagic's own StyleGAN2 at 64x64 RGB on LoFGAN's flowers array
# ($METAGAN_LOFGAN/flower_c8189_s128_data_rgb.npy, default data/lofgan;
# first 85 classes seen, 17 unseen): 4 tasks of 4 images per meta-iteration,
# 5 inner Adam steps with StyleGAN2's non-saturating logistic loss and Adam
# betas (0, 0.99). A GPU config: StyleGAN2's 512-channel convolutions make
# a meta-iteration take minutes on a CPU (README, "Meta-learn the GAN of your
# mmagic project"). Few-shot test: Inception FID/KID from a local weight file.
_base_ = [
    '../_base_/algorithms/reptile.py', '../_base_/nets/stylegan2_64x64.py',
    '../_base_/datasets/flowers-npy_episodic_64x64.py'
]
model = dict(
    _base_.nets,
    inner_loop=dict(
        steps=5, g_lr=2e-4, d_lr=2e-4, betas=(0.0, 0.99),
        loss='nonsaturating'))
optim_wrapper = dict(
    generator=dict(optimizer=dict(betas=(0.0, 0.99))),
    discriminator=dict(optimizer=dict(betas=(0.0, 0.99))))
train_cfg = dict(max_iters=20000)
