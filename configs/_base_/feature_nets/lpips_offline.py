# LPIPS v0.1 with the VGG16 backbone (LPIPSVGG) from two LOCAL weight files
# (nothing is downloaded): torchvision's vgg16-397923af.pth
#   https://download.pytorch.org/models/vgg16-397923af.pth
# and the lpips package's learned linear layers weights/v0.1/vgg.pth
# (pip install lpips on a machine with internet access, then copy
# site-packages/lpips/weights/v0.1/vgg.pth). Copy them to checkpoints/ or
# point $METAGAN_LPIPS_VGG16 and $METAGAN_LPIPS_LIN at them. See
# docs/user_guides/evaluation.md.
lpips_net = dict(
    type='LPIPSVGG',
    vgg_weights='{{$METAGAN_LPIPS_VGG16:checkpoints/vgg16-397923af.pth}}',
    lin_weights='{{$METAGAN_LPIPS_LIN:checkpoints/lpips-v0.1-vgg.pth}}')
