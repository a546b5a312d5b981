# From-scratch baseline: no training. For every unseen class a GAN with
# freshly initialised weights (seeded per class, model.fewshot_init='random')
# is trained on the class's K images only, by reptile.py's inner loop and
# number of steps. tools/test.py wants a checkpoint: pass any checkpoint of
# the same nets (e.g. a Reptile run's); its weights are NOT used.
_base_ = ['./reptile.py']
model = dict(fewshot_init='random')
