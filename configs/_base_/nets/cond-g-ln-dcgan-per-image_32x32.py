# cond-g-ln-dcgan_32x32.py with a set encoder that keeps one embedding per
# image (pooling='none'): the generator takes [E(x_i), z], as in FAML.
_base_ = ['./cond-g-ln-dcgan_32x32.py']
nets = dict(encoder=dict(pooling='none'))
