# From-scratch baseline: for every unseen class a GAN with freshly
# initialised weights (seeded per class) is trained on the class's K images
# only, with the same inner loop and number of steps as the meta-learners'
# adaptation (configs/reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py). No
# training is needed. tools/test.py wants a checkpoint: pass any checkpoint
# of the same nets (e.g. the Reptile run's); its weights are NOT used, since
# adaptation starts from fresh weights (model.fewshot_init='random').
# benchmarks/bench_fewshot_results.py builds the runner without one.
#   METAGAN_FEATURE_NET=... python tools/test.py \
#       configs/baselines/scratch_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py ANY_CKPT.pth
_base_ = ['../reptile/reptile_ln-dcgan-quarter_1xb4-600iters_glyphs-32x32.py']
model = dict(fewshot_init='random')
