"""MasKD: the token-masked loss and the token maps against loops written here and hand values; the token file as a
build-time check; the token-learning model against a naive first stage; tools/learn_receptive_tokens.py on generated
data (logs, resume to the same tokens, a token file the loss loads)."""
import importlib.util
import json
import math
import os
import shutil
import subprocess

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from conftest import CWD_DISTILL_CFG, PYTHON, REPO, STUDENT_CFG
from mmseg_kd.distillers import ReceptiveTokenLearner
from mmseg_kd.losses import ReceptiveTokenMaskedDistillation, save_token_file, token_dice, token_masks
from mmseg_kd.utils.user_input_error import UserInputError


def sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def naive_masks(tokens, logits):
    """masks[b][t][h][w] = sigmoid(Σ_k tokens[t, k] · logits[b, k, h, w]), as nested lists."""
    B, K, H, W = logits.shape
    return [[[[sigmoid(sum(float(tokens[t, k]) * float(logits[b, k, h, w]) for k in range(K))) for w in range(W)]
              for h in range(H)] for t in range(tokens.shape[0])] for b in range(B)]


def naive_maskd(student, teacher, tokens):
    """½ · mean over (b, t, k) of Σ_hw (m·s − m·t)² / (Σ_hw m + 1e-5), by loops."""
    B, K, H, W = teacher.shape
    masks = naive_masks(tokens, teacher)
    total = 0.0
    for b in range(B):
        for t in range(tokens.shape[0]):
            area = sum(masks[b][t][h][w] for h in range(H) for w in range(W)) + 1e-5
            for k in range(K):
                error = sum((masks[b][t][h][w] * float(student[b, k, h, w]) - masks[b][t][h][w] *
                             float(teacher[b, k, h, w])) ** 2 for h in range(H) for w in range(W))
                total += error / area
    return 0.5 * total / (B * tokens.shape[0] * K)


def naive_dice(masks):
    """Mean over b and ordered pairs i ≠ j of 2⟨m_i, m_j⟩ / (‖m_i‖² + 1e-12 + ‖m_j‖² + 1e-12), by loops."""
    B, T = masks.shape[:2]
    flat = [[[float(v) for v in masks[b, t].flatten()] for t in range(T)] for b in range(B)]
    total, count = 0.0, 0
    for b in range(B):
        for i in range(T):
            for j in range(T):
                if i != j:
                    inner = sum(x * y for x, y in zip(flat[b][i], flat[b][j]))
                    norms = sum(x * x for x in flat[b][i]) + 1e-12 + sum(y * y for y in flat[b][j]) + 1e-12
                    total += 2 * inner / norms
                    count += 1
    return total / count


@pytest.fixture
def token_file(tmp_path):
    def write(tokens):
        path = tmp_path / f'tokens_{len(list(tmp_path.iterdir()))}.pth'
        save_token_file(tokens, str(path))
        return str(path)
    return write


# ----------------------------------------------------------------------------- the loss
def test_loss_matches_the_loops_value_and_gradient(token_file):
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randn(3, 4, generator=generator)
    student = torch.randn(2, 4, 3, 5, generator=generator).requires_grad_()
    teacher = 2 * torch.randn(2, 4, 3, 5, generator=generator)
    loss = ReceptiveTokenMaskedDistillation(num_classes=4, num_tokens=3, tokens=token_file(tokens))
    value = loss(student, teacher)
    assert value.item() == pytest.approx(naive_maskd(student.detach(), teacher, tokens), rel=1e-5)
    value.backward()
    # d/ds of ½·mean Σ m²(s−t)²/(Σm+ε) = m²(s−t)/((Σm+ε)·B·T·K), summed over t
    masks = torch.tensor(naive_masks(tokens, teacher))  # (B, T, H, W)
    area = masks.sum(dim=(2, 3), keepdim=True) + 1e-5
    expected = ((masks.square() / area).sum(dim=1, keepdim=True) * (student.detach() - teacher)) / (2 * 3 * 4)
    torch.testing.assert_close(student.grad, expected, rtol=1e-5, atol=1e-8)


def test_loss_hand_value_and_masks_from_the_teacher_only(token_file):
    """One class, one zero token: every mask is sigmoid(0) = ½ whatever the logits, so for one pixel with
    s − t = 2: ½ · (¼ · 4) / (½ + 1e-5)."""
    loss = ReceptiveTokenMaskedDistillation(num_classes=1, num_tokens=1, tokens=token_file(torch.zeros(1, 1)))
    value = loss(torch.full((1, 1, 1, 1), 5.0), torch.full((1, 1, 1, 1), 3.0))
    assert value.item() == pytest.approx(0.5 * 1.0 / (0.5 + 1e-5), rel=1e-6)
    # a token of 1 on one class: the mask is sigmoid(teacher logit), and the student's logits do not move it
    loss = ReceptiveTokenMaskedDistillation(num_classes=1, num_tokens=1, tokens=token_file(torch.ones(1, 1)))
    teacher = torch.tensor([[[[0.0, math.log(3.0)]]]])  # masks ½ and ¾
    for student in (teacher + torch.tensor([[[[2.0, 0.0]]]]), teacher + torch.tensor([[[[2.0, 1e-3]]]])):
        expected = 0.5 * (0.25 * 4.0 + 0.5625 * float(student[0, 0, 0, 1] - teacher[0, 0, 0, 1]) ** 2) / (1.25 + 1e-5)
        assert loss(student, teacher).item() == pytest.approx(expected, rel=1e-6)


def test_token_masks_and_dice_match_the_loops():
    generator = torch.Generator().manual_seed(1)
    tokens, logits = torch.randn(3, 2, generator=generator), torch.randn(2, 2, 2, 3, generator=generator)
    masks = token_masks(tokens, logits)
    torch.testing.assert_close(masks, torch.tensor(naive_masks(tokens, logits)), rtol=1e-6, atol=1e-7)
    assert token_dice(masks).item() == pytest.approx(naive_dice(masks), rel=1e-6)
    # identical masks have dice 1, disjoint ones 0
    assert token_dice(torch.ones(1, 2, 2, 2)).item() == pytest.approx(1.0)
    assert token_dice(torch.tensor([[[[1.0, 0.0]], [[0.0, 1.0]]]])).item() == 0.0


def test_tokens_are_a_frozen_buffer_saved_in_the_state_dict(token_file):
    tokens = torch.arange(6.0).reshape(2, 3)
    loss = ReceptiveTokenMaskedDistillation(num_classes=3, num_tokens=2, tokens=token_file(tokens), loss_weight=0.5)
    assert list(loss.parameters()) == [] and torch.equal(loss.state_dict()['tokens'], tokens)
    assert loss.unweighted(torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)).item() > 0
    with pytest.raises(ValueError, match='num_classes=3.*5 channels'):
        loss.check_shapes((1, 5, 8, 8), (1, 5, 8, 8))


def test_a_missing_or_mismatched_token_file_is_a_build_error_naming_the_command(token_file, tmp_path):
    with pytest.raises(UserInputError, match=r"does not exist.*python tools/learn_receptive_tokens\.py CONFIG"):
        ReceptiveTokenMaskedDistillation(num_classes=19, tokens=str(tmp_path / 'absent.pth'))
    with pytest.raises(UserInputError, match=r'shape \(8, 19\).*num_tokens=4, num_classes=19.*learn_receptive_tokens'):
        ReceptiveTokenMaskedDistillation(num_classes=19, num_tokens=4, tokens=token_file(torch.zeros(8, 19)))
    other = tmp_path / 'other.pth'
    torch.save({'state_dict': {}}, other)
    with pytest.raises(UserInputError, match="not a token file.*'state_dict'"):
        ReceptiveTokenMaskedDistillation(num_classes=19, tokens=str(other))
    authors = tmp_path / 'authors.pth'  # the authors' first stage saves MaskModule's state dict
    torch.save({'mask_token': torch.ones(8, 19)}, authors)
    assert torch.equal(ReceptiveTokenMaskedDistillation(num_classes=19, tokens=str(authors)).tokens, torch.ones(8, 19))


# ----------------------------------------------------------------------------- the first stage
def test_learner_loss_is_the_naive_first_stage_and_trains_only_the_tokens():
    torch.manual_seed(0)
    learner = ReceptiveTokenLearner(teacher=dict(cfg_path=str(STUDENT_CFG), checkpoint=None), num_classes=19,
                                    num_tokens=3, teacher_train_mode=False)
    assert [name for name, _ in learner.named_parameters()] == ['tokens'] and list(learner.state_dict()) == ['tokens']
    assert not learner.teacher.training and not any(p.requires_grad for p in learner.teacher.parameters())
    inputs = torch.randn(1, 3, 32, 64)
    labels = torch.randint(0, 19, (1, 32, 64))
    labels[:, :3] = 255
    losses = learner(inputs, [SegDataSample(gt_sem_seg=PixelData(data=labels))])
    logits = learner.teacher_logits(inputs)
    masks = torch.tensor(naive_masks(learner.tokens.detach(), logits))
    masked = sum(masks[:, t:t + 1] * logits for t in range(3))
    resized = F.interpolate(masked, size=(32, 64), mode='bilinear', align_corners=True)
    assert losses['loss_ce'].item() == pytest.approx(F.cross_entropy(resized, labels, ignore_index=255).item(),
                                                     rel=1e-5)
    assert losses['loss_dice'].item() == pytest.approx(naive_dice(masks), rel=1e-5)
    (losses['loss_ce'] + losses['loss_dice']).backward()
    assert learner.tokens.grad.abs().sum() > 0
    learner.teacher_train_mode = True
    assert learner.train().teacher.training  # the released mode: batch statistics, dropout


@pytest.fixture(scope='module')
def token_runs(tmp_path_factory, cityscapes_root, r18_checkpoint):
    """One 4-iteration token run on the demo PSPNet-R18 as teacher, then the same run resumed from its iteration-2
    checkpoint."""
    root = tmp_path_factory.mktemp('tokens')
    config = root / 'maskd_demo.py'
    config.write_text(f"""
_base_ = ['{CWD_DISTILL_CFG}']
model = dict(
    teacher=dict(cfg_path='{STUDENT_CFG}', checkpoint='{r18_checkpoint}'),
    distill_losses=dict(_delete_=True, loss_maskd=dict(
        type='ReceptiveTokenMaskedDistillation', num_classes=19, num_tokens=4, tokens='{root / 'tokens.pth'}',
        student='decode_head.conv_seg', teacher='decode_head.conv_seg')))
train_dataloader = dict(batch_size=2, dataset=dict(data_root='{cityscapes_root}'))
receptive_token_learning = dict(max_iters=4, checkpoint_interval=2, log_interval=1)
randomness = dict(seed=0)
""")
    env = dict(os.environ, PYTHONUNBUFFERED='1')

    def learn(*options):
        result = subprocess.run([PYTHON, 'tools/learn_receptive_tokens.py', str(config), *options], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
        return result.stdout + result.stderr

    full_dir = root / 'full'
    output = learn('--work-dir', str(full_dir))
    full_tokens = torch.load(root / 'tokens.pth', weights_only=True)['tokens']
    resumed_dir = root / 'resumed'
    shutil.copytree(full_dir, resumed_dir)
    (resumed_dir / 'iter_4.pth').unlink()
    (resumed_dir / 'last_checkpoint').write_text(str(resumed_dir / 'iter_2.pth'))
    resumed_output = learn('--work-dir', str(resumed_dir), '--resume')
    resumed_tokens = torch.load(root / 'tokens.pth', weights_only=True)['tokens']
    return dict(config=config, root=root, output=output, full_dir=full_dir, full_tokens=full_tokens,
                resumed_output=resumed_output, resumed_tokens=resumed_tokens)


def test_tool_learns_tokens_with_the_runner_and_the_loss_loads_them(token_runs):
    (log,) = token_runs['full_dir'].glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [record['iter'] for record in records] == [1, 2, 3, 4]
    assert all(math.isfinite(record['loss_ce']) and 0 <= record['loss_dice'] <= 1 for record in records)
    # the released SGD learning rate and its poly decay lr · (1 − i / max_iters)^0.9 at iteration i = 0 .. 3
    assert [record['lr'] for record in records] == pytest.approx([0.1 * (1 - i / 4) ** 0.9 for i in range(4)])
    assert f"written to {token_runs['root'] / 'tokens.pth'}" in token_runs['output']
    tokens = token_runs['full_tokens']
    halfway = torch.load(token_runs['full_dir'] / 'iter_2.pth', weights_only=True)['state_dict']
    assert list(halfway) == ['tokens'] and tokens.shape == (4, 19)  # checkpoints hold the tokens only
    assert not torch.equal(halfway['tokens'], tokens)  # and iterations 3-4 moved them
    loss = ReceptiveTokenMaskedDistillation(num_classes=19, num_tokens=4, tokens=str(token_runs['root'] / 'tokens.pth'))
    assert torch.equal(loss.tokens, tokens)


def test_tool_resumes_to_the_same_tokens(token_runs):
    assert 'resumed' in token_runs['resumed_output'].lower()
    torch.testing.assert_close(token_runs['resumed_tokens'], token_runs['full_tokens'], rtol=0, atol=0)


def load_tool():
    spec = importlib.util.spec_from_file_location('learn_receptive_tokens', REPO / 'tools/learn_receptive_tokens.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tool_refuses_configs_without_one_shared_token_setting():
    tool = load_tool()
    cfg = Config.fromfile(CWD_DISTILL_CFG)
    with pytest.raises(UserInputError, match='has no ReceptiveTokenMaskedDistillation term'):
        tool.token_settings(cfg, 'cwd.py')
    entry = dict(type='ReceptiveTokenMaskedDistillation', num_classes=19, tokens='a.pth')
    cfg.model.distill_losses = dict(loss_a=entry, loss_b=dict(entry, tokens='b.pth'))
    with pytest.raises(UserInputError, match="different token settings.*tokens='a.pth'.*tokens='b.pth'"):
        tool.token_settings(cfg, 'two.py')
    cfg.model.distill_losses = dict(loss_a=entry, loss_b=dict(entry, loss_weight=0.4))
    assert tool.token_settings(cfg, 'ok.py') == dict(tokens='a.pth', num_tokens=8, num_classes=19)
    cfg.receptive_token_learning = dict(max_iter=5)
    with pytest.raises(UserInputError, match=r"unknown keys \['max_iter'\]"):
        tool.learning_settings(cfg, 'typo.py')
