"""What mmseg lacks for datasets: loading steps that report bad files (registered in mmseg's ``TRANSFORMS``), and
the generated demo data (imported by the tools that write it).

Layering: the top of the package besides ``analysis``.
"""
from mmseg_kd.datasets.checked_loading import BadDataError, CheckedLoadAnnotations, CheckedLoadImageFromFile

__all__ = ['BadDataError', 'CheckedLoadAnnotations', 'CheckedLoadImageFromFile']
