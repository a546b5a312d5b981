# Plain local-fusion GAN (the LoFGAN baseline) at 32x32, 1 channel:
# LocalFusionGenerator (an 8x8 fused map, half of its positions fused) and
# ClassHeadResNetDiscriminator, LoFGAN's losses and weights (hinge, class
# cross-entropy 1.0, local reconstruction 0.5, R1 on the true-class logit)
# and optimiser (Adam 1e-4, weight decay 1e-4, PyTorch's default betas).
# The D and G gradients are taken at the same weights (LoFGAN steps D
# first); docs/user_guides/fusion.md lists every deviation.
# Set discriminator.num_classes to the training split's class count.
model = dict(
    type='FusionGAN',
    data_preprocessor=dict(
        type='DataPreprocessor', mean=[127.5], std=[127.5], data_keys=None),
    generator=dict(
        type='LocalFusionGenerator',
        out_scale=32,
        out_channels=1,
        base_channels=32,
        rate=0.5),
    discriminator=dict(
        type='ClassHeadResNetDiscriminator',
        in_scale=32,
        in_channels=1,
        base_channels=64),
    # plain fusion training: one D and one G step per iteration
    algorithm=dict(type='Pooled'),
    objective=dict(
        type='FusionObjective', adv=1.0, cls=1.0, recon=0.5, r1=0.02),
    # few-shot adaptation on the K shots, when asked for (test_cfg.steps,
    # tools/generate.py --steps): Adam 1e-4, LoFGAN's rate and betas
    inner_loop=dict(
        steps=5,
        g_lr=1e-4,
        d_lr=1e-4,
        optimizer='adam',
        betas=(0.9, 0.999),
        loss='hinge'),
    fewshot_steps=0)

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4)),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4)))
