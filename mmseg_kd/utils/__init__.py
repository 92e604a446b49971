from mmseg_kd.utils.progress import announce_step, track_progress

__all__ = ['announce_step', 'track_progress']
