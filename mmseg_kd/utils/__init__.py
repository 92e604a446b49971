from mmseg_kd.utils.progress import track_progress
from mmseg_kd.utils.user_input_error import UserInputError

__all__ = ['UserInputError', 'track_progress']
