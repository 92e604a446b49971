from mmseg_kd.utils.progress import announce_step, track_progress
from mmseg_kd.utils.user_input_error import UserFileError, UserInputError, UserInputTypeError

__all__ = ['UserFileError', 'UserInputError', 'UserInputTypeError', 'announce_step', 'track_progress']
