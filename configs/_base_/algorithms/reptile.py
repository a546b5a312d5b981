# Reptile (Nichol et al., 2018) as FIGR trains a GAN with it: per task, a
# copy of G and D takes 10 inner WGAN-GP steps (Adam, lr 1e-3, where FIGR's
# code uses SGD) on the task's images; the meta-weights move towards the
# mean of the adapted weights by an outer Adam step (meta-adam.py).
_base_ = ['./meta-adam.py']
model = dict(
    type='ReptileGAN',
    inner_loop=dict(
        steps=10,
        g_lr=1e-3,
        d_lr=1e-3,
        optimizer='adam',
        betas=(0.5, 0.9),
        d_steps_per_g_step=1,
        loss='wgan-gp',
        gp_weight=10.0,
        # vmap the tasks on CUDA, and on the CPU for nets up to 1M
        # parameters (README, Benchmarks); chunk: most tasks per vmap
        batching=dict(mode='auto', chunk='auto')),
    max_failed_fraction=0.5)
