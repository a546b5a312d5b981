# LoFGAN's VGGFace array (vgg_face_data_rgb.npy, floats in [0, 1]) at
# 128x128: the first 1802 classes meta-train, the rest are the unseen
# few-shot test (lofgan-npy_episodic_128x128.py: the protocol). As LoFGAN
# does for VGGFace: 16 tasks per iteration, and a pool of 30 images per
# unseen class to draw the 3-shot sets from.
_base_ = ['./lofgan-npy_episodic_128x128.py']
vggface = dict(npy_file='vgg_face_data_rgb.npy', split=dict(first_n=1802))
train_dataloader = dict(batch_size=16, dataset=dict(dataset=vggface))
test_dataloader = dict(dataset=dict(k_shot=30, dataset=vggface))
