# Transfer baseline: one GAN pretrained on the pooled images of all
# meta-training classes (no meta-learning; TransferGAN / core.Pooled: one
# plain GAN step per iteration on the T*N images of a meta-batch), then
# fine-tuned on each unseen class's K images by reptile.py's inner loop and
# number of steps; its outer Adam trains the pooled GAN.
_base_ = ['./reptile.py']
model = dict(type='TransferGAN')
