# Transfer baseline (configs/_base_/algorithms/transfer.py) with the data,
# nets, optimisers and budget of
# configs/reptile/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py.
#   python tools/train.py \
#       configs/baselines/transfer_ln-dcgan_1xb8-100kiters_omniglot-32x32.py
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/transfer_ln-dcgan_1xb8-100kiters_omniglot-32x32.py \
#       work_dirs/transfer_ln-dcgan_1xb8-100kiters_omniglot-32x32/iter_N.pth
_base_ = [
    '../_base_/algorithms/transfer.py', '../_base_/nets/ln-dcgan_32x32.py',
    '../_base_/datasets/omniglot_episodic_32x32.py'
]
model = dict(_base_.nets)
train_cfg = dict(max_iters=100000)
