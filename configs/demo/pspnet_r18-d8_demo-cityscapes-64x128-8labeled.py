# PSPNet-R18 on 8 labeled scenes of the generated demo street scenes (splits/8/labeled.txt, written by the demo
# generator): the student of the demo's unlabeled-images distillation, trained here on its labeled images alone.
# Its cross-entropy averages over labeled pixels only (avg_non_ignore=True), which the distillation config on top of
# it needs: there, unlabeled images (every pixel ignored) join the batches.
_base_ = ['./pspnet_r18-d8_demo-cityscapes-64x128.py']

model = dict(
    decode_head=dict(loss_decode=dict(avg_non_ignore=True)),
    auxiliary_head=dict(loss_decode=dict(avg_non_ignore=True)))
train_dataloader = dict(dataset=dict(ann_file='splits/8/labeled.txt'))
