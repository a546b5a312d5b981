# LoFGAN's Oxford flowers array (flower_c8189_s128_data_rgb.npy) at
# 128x128: the first 85 classes meta-train, the rest are the unseen
# few-shot test (lofgan-npy_episodic_128x128.py: the protocol).
_base_ = ['./lofgan-npy_episodic_128x128.py']
flowers = dict(
    npy_file='flower_c8189_s128_data_rgb.npy', split=dict(first_n=85))
train_dataloader = dict(dataset=dict(dataset=flowers))
test_dataloader = dict(dataset=dict(dataset=flowers))
