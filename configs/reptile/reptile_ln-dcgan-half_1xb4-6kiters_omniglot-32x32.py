# Reptile meta-GAN on Omniglot at a CPU budget: the README's Omniglot grid.
# The project's FIGR-spirit DCGAN at half width (base_channels=32; not
# FIGR's own nets), 5 inner steps, 4 tasks per meta-batch, outer Adam 5e-4,
# 6000 meta-iterations: about 75 minutes on one core of a 2-core machine.
# Meta-trains on 4 alphabets, shows unseen Tagalog / Early_Aramaic
# characters every 500 iterations.
#   METAGAN_OMNIGLOT=../shared/data/omniglot OMP_NUM_THREADS=1 \
#   python tools/train.py configs/reptile/reptile_ln-dcgan-half_1xb4-6kiters_omniglot-32x32.py
_base_ = [
    '../_base_/algorithms/reptile.py', '../_base_/nets/ln-dcgan-half_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets, inner_loop=dict(steps=5))
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=5e-4)),
    discriminator=dict(optimizer=dict(lr=5e-4)))
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False)

train_cfg = dict(max_iters=6000)
default_hooks = dict(
    logger=dict(interval=100),
    checkpoint=dict(interval=500, max_keep_ckpts=20))
custom_hooks = [dict(_base_.custom_hooks[0], interval=500)]
test_cfg = dict(num_samples=32)
