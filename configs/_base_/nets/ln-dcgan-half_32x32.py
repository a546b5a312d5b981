# ln-dcgan_32x32.py at half width (base_channels=32).
_base_ = ['./ln-dcgan_32x32.py']
nets = dict(
    generator=dict(base_channels=32), discriminator=dict(base_channels=32))
