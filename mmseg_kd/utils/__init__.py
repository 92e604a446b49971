from mmseg_kd.utils.progress import track_progress

__all__ = ['track_progress']
