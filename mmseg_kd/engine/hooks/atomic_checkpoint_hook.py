"""Training checkpoints that a kill or a full disk during a save cannot lose.

mmengine 0.10.7's ``CheckpointHook`` deletes the checkpoints beyond ``max_keep_ckpts`` *before* it writes the new one,
writes it in place, and then points ``last_checkpoint`` at it: a SIGTERM or a full disk during the save leaves a
truncated file, no older one, and all progress is gone. This hook saves the same checkpoint with the same name, but:

1. writes it with :func:`~mmseg_kd.checkpoint.atomic_write.write_atomically` (temporary file in the same folder,
   fsync, atomic rename), so ``iter_N.pth`` is either complete or absent;
2. deletes the old checkpoints only after the new one is complete;
3. updates ``last_checkpoint`` only then (atomically too), with the checkpoint's path relative to the work dir, so a
   work dir copied elsewhere resumes from its own files (``tools/train.py --resume`` resolves it).

The message hub's ``keep_ckpt_ids`` stored inside the checkpoint already lists the new one, as mmengine's does, so a
resumed run deletes exactly the files an uninterrupted one would. ``tools/train.py`` selects this hook in place of
``CheckpointHook`` (with the same arguments); a checkpoint folder on a remote storage backend is written by
mmengine's own hook. Best-score checkpoints (``save_best``) are still written by mmengine.
"""
import os
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from mmseg_kd.checkpoint.atomic_write import write_atomically, write_text_atomically


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose saves are atomic and delete old checkpoints only after the new one is complete."""

    def _save_checkpoint_with_step(self, runner, step, meta):
        if not isinstance(self.file_backend, LocalBackend):
            return super()._save_checkpoint_with_step(runner, step, meta)
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            kept = list(self.keep_ckpt_ids) + [step]
            outdated, kept = kept[:-self.max_keep_ckpts], kept[-self.max_keep_ckpts:]
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(kept)
            runner.message_hub.update_info('keep_ckpt_ids', kept)
        filename = self.filename_tmpl.format(step)
        path = osp.join(self.out_dir, filename)
        self.last_ckpt = path
        runner.message_hub.update_info('last_ckpt', path)
        if not is_main_process():
            return None

        def write(temporary: str) -> None:
            runner.save_checkpoint(osp.dirname(temporary), osp.basename(temporary), self.file_client_args,
                                   save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
                                   meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)

        write_atomically(path, write)
        for old_step in outdated:
            old_path = osp.join(self.out_dir, self.filename_tmpl.format(old_step))
            if osp.isfile(old_path):
                os.remove(old_path)
        write_text_atomically(osp.join(runner.work_dir, 'last_checkpoint'),
                              osp.relpath(osp.abspath(path), osp.abspath(runner.work_dir)))
        return None
