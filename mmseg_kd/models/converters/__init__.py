"""Converters from the papers' released checkpoints to the state dicts of this repository's configs.

Each converter recognises its authors' files from their keys and shapes, renames every tensor onto mmseg keys
(reshaping or reordering where the module differs) and refuses other files with a message that names the
converter that fits. The command-line tools are ``tools/model_converters/{cirkd,deeplabv3plus,segdistill}2mmseg.py``
(docs/model_converters.md).
"""
from mmseg_kd.models.converters.cirkd import convert_cirkd_checkpoint
from mmseg_kd.models.converters.deeplabv3plus import convert_deeplabv3plus_checkpoint
from mmseg_kd.models.converters.key_mapping import ConvertedCheckpoint, UnsupportedCheckpointError
from mmseg_kd.models.converters.segdistill import convert_segdistill_checkpoint

__all__ = ['ConvertedCheckpoint', 'UnsupportedCheckpointError', 'convert_cirkd_checkpoint',
           'convert_deeplabv3plus_checkpoint', 'convert_segdistill_checkpoint']
