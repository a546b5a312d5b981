# Reptile meta-GAN over mmagic's own StyleGAN2 at 64x64, 3 channels:
# StyleGAN2Generator / StyleGAN2Discriminator as in mmagic's styleganv2
# configs (style_channels=512, 8 mapping layers, channel_multiplier=2, mmcv's
# upfirdn2d and fused_bias_leakyrelu ops), their non-saturating logistic loss
# and Adam betas=(0, 0.99); StyleGAN2's R1 and path-length regularisers and
# its EMA generator are not used. The generator draws its noise injection
# inside its forward pass, which vmap refuses, so the tasks run sequentially
# (logged once).
model = dict(
    type='ReptileGAN',
    data_preprocessor=dict(
        type='DataPreprocessor',
        mean=[127.5] * 3,
        std=[127.5] * 3,
        data_keys=None),
    generator=dict(
        type='StyleGAN2Generator',
        out_size=64,
        style_channels=512,
        out_channels=3),
    discriminator=dict(
        type='StyleGAN2Discriminator', in_size=64, img_channels=3),
    inner_loop=dict(
        steps=5,
        g_lr=2e-4,
        d_lr=2e-4,
        optimizer='adam',
        betas=(0.0, 0.99),
        d_steps_per_g_step=1,
        loss='nonsaturating',
        batching=dict(mode='auto', chunk='auto')),
    max_failed_fraction=0.5)

optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generator=dict(optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.99))),
    discriminator=dict(
        optimizer=dict(type='Adam', lr=1e-4, betas=(0.0, 0.99))))
