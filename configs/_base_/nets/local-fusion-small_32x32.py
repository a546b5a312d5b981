# local-fusion_32x32.py at a CPU size: generator and discriminator at
# base_channels=16.
_base_ = ['./local-fusion_32x32.py']
nets = dict(
    generator=dict(base_channels=16), discriminator=dict(base_channels=16))
