"""Tools' building blocks for looking at a distillation: tappable modules and their shapes, config checks,
training curves and teacher/student pictures. Not imported by ``import mmseg_kd`` (it needs matplotlib)."""
