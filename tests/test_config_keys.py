"""Every config key is used or refused: ``--cfg-options`` keys that name nothing, the student's/teacher's own
``cfg_options``, and constructor keywords that a class does not take (anywhere in the config), each named with its
entry and the closest valid key."""
import subprocess

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmseg.registry import HOOKS, LOOPS, MODELS, OPTIMIZERS
from torch.utils.data import DataLoader

from conftest import CWD_DISTILL_CFG, PYTHON, REPO, STUDENT_CFG, TEACHER_CFG
from mmseg_kd.distillers.model_config import resolve_model_config
from mmseg_kd.engine.build_errors import ConfigEntryError, explained_build_errors
from mmseg_kd.utils.config_keys import accepted_keywords, merge_checked_options
from mmseg_kd.utils.user_input_error import UserInputError


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def merged(config_path, options):
    return merge_checked_options(Config.fromfile(str(config_path)), options)


# ------------------------------------------------------------------------------------------------- --cfg-options
VALID_OPTIONS = [
    {'train_cfg.max_iters': 1},                                    # an existing key
    {'param_scheduler.0.end': 5},                                  # a list index
    {'check_data': False},                                         # a key the tools read, absent from the config
    {'find_unused_parameters': True, 'randomness.seed': 3},
    {'env_cfg.dist_cfg.timeout': 60},                              # a new key in a plain dict
    {'default_hooks.checkpoint.max_keep_ckpts': 1},
    {'optim_wrapper.clip_grad': None, 'optim_wrapper.paramwise_cfg.norm_decay_mult': 0.0},  # a keyword, a builder key
    {'model.student.cfg_options': {'model.backbone.depth': 18}},   # new content below a new key
    {'model.teacher.checkpoint': None, 'model.teacher.autocast_dtype': 'bfloat16'},
    {'train_dataloader.dataset.data_root': 'x', 'train_dataloader.persistent_workers': True},
    {'default_hooks.empty_cache': dict(type='EmptyCacheHook')},  # a new hook
    {'model.distill_losses.loss_cwd.connector': dict(type='ConvConnector')},  # taken by the distillation term
]


@pytest.mark.parametrize('options', VALID_OPTIONS, ids=[','.join(o) for o in VALID_OPTIONS])
def test_keys_that_exist_or_that_their_entry_takes_are_merged(options):
    cfg = merged(CWD_DISTILL_CFG, options)
    for key, value in options.items():
        node = cfg
        for part in key.split('.'):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert node == value, key


INVALID_OPTIONS = [
    ('trian_cfg.max_iters', "'trian_cfg' is neither a key of the config nor one the runner or the tools read "
                            "(did you mean 'train_cfg'?)"),
    ('chek_data', "(did you mean 'check_data'?)"),
    ('train_cfg.max_iter', "train_cfg (IterBasedTrainLoop) has no key 'max_iter', and IterBasedTrainLoop takes no "
                           "such keyword (did you mean 'max_iters'?)"),
    ('optim_wrapper.optimizer.lrr', "optim_wrapper.optimizer (AdamW) has no key 'lrr', and AdamW takes no such "
                                    "keyword (did you mean 'lr'?)"),
    ('optim_wrapper.clip_gard', "(did you mean 'clip_grad'?)"),
    ('model.distill_loss', "model (SegDistiller) has no key 'distill_loss', and SegDistiller takes no such keyword "
                           "(did you mean 'distill_losses'?)"),
    ('model.distill_losses.loss_cwd.tua', "(did you mean 'tau'?)"),
    ('train_dataloader.dataset.data_rot', "(did you mean 'data_root'?)"),
    ('default_hooks.logger.intreval', "(did you mean 'interval'?)"),
    ('param_scheduler.3.end', 'param_scheduler is a list of 1 entries: a key below it must be an index 0..0, '
                              "got '3'"),
    ('param_scheduler.end', "got 'end'"),
]


@pytest.mark.parametrize('key, expected', INVALID_OPTIONS, ids=[key for key, _ in INVALID_OPTIONS])
def test_a_key_that_names_nothing_is_refused_with_the_closest_one(key, expected):
    cfg = Config.fromfile(str(CWD_DISTILL_CFG))
    before = cfg.to_dict()
    with pytest.raises(UserInputError) as error:
        merge_checked_options(cfg, {key: 1, 'train_cfg.max_iters': 7})
    line = next(line for line in str(error.value).splitlines() if line.startswith(f'  {key}: '))
    assert expected in line
    assert cfg.to_dict() == before  # nothing merged, the valid key neither


def test_every_bad_key_is_listed_at_once():
    with pytest.raises(UserInputError) as error:
        merged(STUDENT_CFG, {'trian_cfg.max_iters': 1, 'model.backbone.dept': 18, 'model.backbone.depth': 18})
    message = str(error.value)
    assert message.startswith('--cfg-options: 2 key(s) name nothing in the config')
    assert "model.backbone.dept: model.backbone (ResNetV1c) has no key 'dept'" in message
    assert "(did you mean 'depth'?)" in message


def test_keywords_follow_kwargs_to_the_base_class():
    keywords = accepted_keywords(MODELS.get('ResNetV1c'))  # ResNetV1c(**kwargs) -> ResNet(depth, ...)
    assert {'depth', 'norm_cfg', 'init_cfg'} <= set(keywords) and 'dept' not in keywords
    assert accepted_keywords(HOOKS.get('EMAHook')) is None  # keeps **kwargs for its averaged model: any key


@pytest.mark.parametrize('options, expected', [
    ({'model.backbone.dept': 18}, "student.cfg_options (merged into {}): 1 key(s) name nothing in the config"),
    ({'model.decode_head.pool_scale': (1, 2)}, "(did you mean 'pool_scales'?)"),
    ({'train_cfg.max_iters': 5}, "student.cfg_options: only the 'model' of {} is used, so 'train_cfg.max_iters' "
                                 'would change nothing'),
])
def test_the_students_own_cfg_options_are_checked(options, expected):
    with pytest.raises(UserInputError) as error:
        resolve_model_config(dict(cfg_path=str(STUDENT_CFG), cfg_options=options), 'student')
    assert expected.format(STUDENT_CFG) in str(error.value)
    model = resolve_model_config(dict(cfg_path=str(STUDENT_CFG), cfg_options={'model.backbone.depth': 34}), 'student')
    assert model.backbone.depth == 34


# ------------------------------------------------------------------------------------ constructor keywords at build
def build_error(cfg, build):
    with pytest.raises(ConfigEntryError) as error, explained_build_errors(cfg):
        build()
    return str(error.value)


def test_an_unknown_keyword_names_the_entry_and_the_closest_keyword_wherever_it_is_built():
    cfg = Config.fromfile(str(STUDENT_CFG))
    cfg.model.backbone['dept'] = 18
    cfg.optim_wrapper.optimizer['lrr'] = 0.1
    cfg.train_cfg['max_iter'] = 1
    cfg.train_dataloader['batch_sise'] = 2
    cfg.custom_hooks = [dict(type='EmptyCacheHook', after_iters=True)]
    assert ("model.backbone: 'dept' is not a keyword of ResNetV1c (did you mean 'depth'?)"
            in build_error(cfg, lambda: MODELS.build(cfg.model)))
    assert "optim_wrapper.optimizer: 'lrr' is not a keyword of AdamW (did you mean 'lr'?)" in build_error(
        cfg, lambda: OPTIMIZERS.build(cfg.optim_wrapper.optimizer, default_args=dict(params=[torch.zeros(1)])))
    assert "train_cfg: 'max_iter' is not a keyword of IterBasedTrainLoop (did you mean 'max_iters'?)" in build_error(
        cfg, lambda: LOOPS.build(cfg.train_cfg, default_args=dict(runner=None, dataloader=None)))
    loader = {key: value for key, value in cfg.train_dataloader.items() if key != 'dataset'}
    assert "train_dataloader: 'batch_sise' is not a keyword of DataLoader (did you mean 'batch_size'?)" in build_error(
        cfg, lambda: DataLoader([], **loader))
    assert "custom_hooks.0: 'after_iters' is not a keyword of EmptyCacheHook (did you mean 'after_iter'?)" in \
        build_error(cfg, lambda: HOOKS.build(cfg.custom_hooks[0]))


def test_an_unknown_keyword_in_the_teachers_own_config_names_the_teacher_and_its_file(tmp_path):
    teacher = tmp_path / 'teacher.py'
    teacher.write_text(f"_base_ = ['{TEACHER_CFG}']\nmodel = dict(decode_head=dict(pool_scale=(1, 2)))\n")
    cfg = Config.fromfile(str(CWD_DISTILL_CFG))
    cfg.model.teacher.update(cfg_path=str(teacher), checkpoint=None)
    message = build_error(cfg, lambda: MODELS.build(cfg.model))
    assert (f"model.decode_head of the teacher's config {teacher}: 'pool_scale' is not a keyword of PSPHead "
            "(did you mean 'pool_scales'?)") in message
    assert 'student' not in message


def test_a_distiller_data_preprocessor_without_type_is_explained():
    cfg = Config.fromfile(str(CWD_DISTILL_CFG))
    cfg.model.teacher.checkpoint = None
    cfg.model.data_preprocessor = dict(size=(64, 64))
    message = build_error(cfg, lambda: MODELS.build(cfg.model))
    assert message.startswith("model.data_preprocessor = {'size': (64, 64)} has no 'type'. It is built from a "
                              'registry, so it needs one; an entry without type is not merged into a default entry')
    assert "model.data_preprocessor of the student's config" in message and "has type='SegDataPreProcessor'" in message


def test_an_error_that_no_entry_explains_propagates_unchanged():
    cfg = Config.fromfile(str(STUDENT_CFG))
    with pytest.raises(TypeError, match="got an unexpected keyword argument 'nowhere'") as error, \
            explained_build_errors(cfg):
        MODELS.build(dict(type='ResNetV1c', depth=18, nowhere=1))
    assert not isinstance(error.value, ConfigEntryError)


# -------------------------------------------------------------------------------------------- through train.py
def stopped(*args):
    result = subprocess.run([PYTHON, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    return result.stderr


def test_train_py_refuses_a_misspelt_option_and_names_a_misspelt_keyword_of_its_config(tmp_path, cityscapes_root):
    stderr = stopped('tools/train.py', STUDENT_CFG, '--work-dir', tmp_path / 'run', '--cfg-options',
                     'trian_cfg.max_iters=1')
    assert stderr.endswith("trian_cfg.max_iters: 'trian_cfg' is neither a key of the config nor one the runner or "
                           "the tools read (did you mean 'train_cfg'?)\n(MMSEG_KD_DEBUG=1 prints the traceback)\n")
    assert '==== train.py stopped: UserInputError ====' in stderr
    config = tmp_path / 'student.py'
    config.write_text(f"_base_ = ['{STUDENT_CFG}']\ncustom_hooks = [dict(type='EmptyCacheHook', befor_epoch=True)]\n")
    stderr = stopped('tools/train.py', config, '--work-dir', tmp_path / 'run2', '--cfg-options',
                     f'train_dataloader.dataset.data_root={cityscapes_root}',
                     f'val_dataloader.dataset.data_root={cityscapes_root}')
    block = stderr[stderr.index('==== train.py stopped: ConfigEntryError ===='):]
    assert ("custom_hooks.0: 'befor_epoch' is not a keyword of EmptyCacheHook (did you mean 'before_epoch'?)"
            in block)


def test_an_option_that_replaces_an_entry_with_delete_replaces_it():
    """The trial merge that checks the keys must not consume the ``_delete_`` of the merge that follows."""
    cfg = Config.fromfile(REPO / 'configs/demo/pspnet_r18-d8_demo-cityscapes-64x128-8labeled.py')
    assert cfg.model.decode_head.loss_decode.avg_non_ignore is True
    merge_checked_options(cfg, {'model.decode_head.loss_decode': ConfigDict(
        _delete_=True, type='CrossEntropyLoss', loss_weight=1.0)})
    assert dict(cfg.model.decode_head.loss_decode) == dict(type='CrossEntropyLoss', loss_weight=1.0)
