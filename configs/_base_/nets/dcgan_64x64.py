# mmagic's own DCGAN at 64x64, 3 channels: the DCGANGenerator /
# DCGANDiscriminator of mmagic's dcgan configs (BatchNorm, G
# base_channels=1024, D 128; 23.7M parameters G + D). BatchNorm keeps the
# tasks sequential (vmap cannot update running statistics; logged once);
# each task adapts its own copy of the statistics and the meta-model's are
# set to their mean (README, "Meta-learn the GAN of your mmagic project").
nets = dict(
    data_preprocessor=dict(
        type='DataPreprocessor',
        mean=[127.5] * 3,
        std=[127.5] * 3,
        data_keys=None),
    generator=dict(
        type='DCGANGenerator',
        output_scale=64,
        out_channels=3,
        base_channels=1024,
        noise_size=100),
    discriminator=dict(
        type='DCGANDiscriminator',
        input_scale=64,
        output_scale=4,
        out_channels=1,
        in_channels=3,
        base_channels=128))
