# MAML meta-GAN (DAWSON-style) with FIGR's DCGAN nets at 32x32, 1 channel.
# Support = the first 4 images of a task, query = the next 4 (dataset k_shot
# and num_query). Inner SGD, 5 steps; second order unless first_order=True.
model = dict(
    type='MAMLGAN',
    num_support=4,
    first_order=False,
    separate_disc_adaptation=False,
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[127.5], std=[127.5], data_keys=None),
    generator=dict(
        type='FIGRDCGANGenerator', noise_size=100, out_scale=32,
        out_channels=1),
    discriminator=dict(
        type='FIGRDCGANDiscriminator', in_scale=32, in_channels=1),
    inner_loop=dict(
        steps=5, g_lr=1e-2, d_lr=1e-2, optimizer='sgd', loss='wgan-gp',
        gp_weight=10.0),
    batched='auto',  # vmap over tasks on CUDA, a loop on CPU
    max_failed_fraction=0.5)

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))),
    discriminator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
