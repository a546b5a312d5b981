# Transfer baseline: one GAN pretrained on the pooled images of all
# meta-training classes (no meta-learning; TransferGAN / core.Pooled: one
# plain GAN step per iteration on the T*N images of a meta-batch), then
# fine-tuned on each unseen class's K images by the same inner loop and
# number of steps as the meta-learners. Data, nets, optimisers and budget
# are those of configs/reptile/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py.
#   python tools/train.py \
#       configs/baselines/transfer_ln-dcgan_1xb8-100kiters_omniglot-32x32.py
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/transfer_ln-dcgan_1xb8-100kiters_omniglot-32x32.py \
#       work_dirs/transfer_ln-dcgan_1xb8-100kiters_omniglot-32x32/iter_N.pth
_base_ = ['../reptile/reptile_ln-dcgan_1xb8-100kiters_omniglot-32x32.py']
model = dict(type='TransferGAN')
