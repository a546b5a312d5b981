# Reptile meta-GAN with the project's DCGAN (channel-wise LayerNorm, in FIGR's
# spirit; not FIGR's own nets, which are FIGROriginalDCGAN*) at 32x32, 1 channel,
# FIGR's step counts and rates (10 inner steps, inner lr 1e-3, outer lr 1e-4,
# WGAN-GP) with Adam inside, where FIGR's code uses SGD.
model = dict(
    type='ReptileGAN',
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[127.5], std=[127.5], data_keys=None),
    generator=dict(
        type='FIGRDCGANGenerator',
        noise_size=100,
        out_scale=32,
        out_channels=1),
    discriminator=dict(
        type='FIGRDCGANDiscriminator', in_scale=32, in_channels=1),
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

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))),
    discriminator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
