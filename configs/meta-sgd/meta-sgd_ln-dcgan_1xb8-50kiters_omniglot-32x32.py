# Meta-SGD meta-GAN on Omniglot 32x32: MAML's budget
# (maml_ln-dcgan_1xb8-50kiters_omniglot-32x32.py) plus meta-learned
# per-parameter inner learning rates.
_base_ = [
    '../_base_/algorithms/meta-sgd.py', '../_base_/nets/ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets)
train_dataloader = dict(dataset=dict(num_query=4))
train_cfg = dict(max_iters=50000)
