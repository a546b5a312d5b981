# ln-dcgan_32x32.py at a quarter of the width (base_channels=16): the CPU
# quick-start size.
_base_ = ['./ln-dcgan_32x32.py']
nets = dict(
    generator=dict(base_channels=16), discriminator=dict(base_channels=16))
