# Meta-learned fusion: Reptile on the local-fusion nets. Each task adapts
# copies of G and D for 5 inner Adam steps (lr 1e-4) with the fusion
# objective (LoFGAN's losses, the task's class as the seen-class label),
# then the meta-weights move towards the adapted ones by an outer Adam step
# (lr 1e-3, no weight decay). At test time the nets adapt on the K shots of
# an unseen class (5 steps) without the class terms.
_base_ = ['./fusion.py']
model = dict(
    algorithm=dict(_delete_=True, type='Reptile'),
    inner_loop=dict(steps=5, g_lr=1e-4, d_lr=1e-4),
    fewshot_steps=5)
# Reptile's outer step: SGD-like Adam on theta - mean(theta_t)
optim_wrapper = dict(
    generator=dict(optimizer=dict(lr=1e-3, weight_decay=0)),
    discriminator=dict(optimizer=dict(lr=1e-3, weight_decay=0)))
