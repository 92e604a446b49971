"""What mmseg lacks for datasets: loading steps that report bad files (registered in mmseg's ``TRANSFORMS``), and
the generated demo data (imported by the tools that write it).

Layering: with ``analysis``, the top of the package (it builds on ``engine`` and the layers below).
"""
from mmseg_kd.datasets.checked_loading import BadDataError, CheckedLoadAnnotations, CheckedLoadImageFromFile

__all__ = ['BadDataError', 'CheckedLoadAnnotations', 'CheckedLoadImageFromFile']
