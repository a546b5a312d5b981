# LoFGAN's Animal Faces array (animal_128.npy) at 128x128: the first 119
# classes meta-train, the rest are the unseen few-shot test
# (lofgan-npy_episodic_128x128.py: the protocol).
_base_ = ['./lofgan-npy_episodic_128x128.py']
animal_faces = dict(npy_file='animal_128.npy', split=dict(first_n=119))
train_dataloader = dict(dataset=dict(dataset=animal_faces))
test_dataloader = dict(dataset=dict(dataset=animal_faces))
