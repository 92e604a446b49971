"""student=/teacher= entries name mmseg's own configs with 'mmseg::' references, as the README shows."""
import pytest

from mmseg_kd.distillers.model_config import resolve_model_config


def test_mmseg_reference_gives_that_config_s_model_with_options_applied():
    model = resolve_model_config(dict(cfg_path='mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
                                      cfg_options={'model.pretrained': None}), 'student')
    assert model.type == 'EncoderDecoder'
    assert model.backbone.depth == 18 and model.decode_head.in_channels == 512
    assert model.pretrained is None


def test_unknown_mmseg_reference_names_the_entry():
    with pytest.raises(FileNotFoundError, match=r"teacher\.cfg_path 'mmseg::pspnet/nope\.py' was not found"):
        resolve_model_config(dict(cfg_path='mmseg::pspnet/nope.py'), 'teacher')
