# The outer (meta) optimiser of G and D that Reptile, MAML and the
# baselines share: Adam, lr 1e-4, betas (0.5, 0.9), one wrapper per module.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))),
    discriminator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.5, 0.9))))
