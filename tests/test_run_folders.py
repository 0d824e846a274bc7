"""Run folders are written whole: a run that did not complete never replaces one that did,
a crash or a second writer never leaves half a folder, and files get the umask's modes."""

import os
import stat

import numpy as np
import pytest

from deltaflow import cli
from deltaflow.training import runs
from deltaflow.training.config import RunConfig
from deltaflow.training.io import atomic_file, load_model
from deltaflow.training.runs import read_history, save_run
from deltaflow.training.trainer import fit
from deltaflow.viz import canvas


def _config(name="r", **extra) -> RunConfig:
    return RunConfig.from_dict({"name": name, "data": {"name": "spiral", "n_samples": 60}, "model": {"hidden": [6]},
                                "epochs": 2, "batch_size": 16, **extra})


def _diverging(name="r") -> RunConfig:
    return RunConfig.from_dict({"name": name, "data": {"name": "spiral", "n_samples": 100},
                                "model": {"hidden": [32] * 4, "activation": "relu"},
                                "optimizer": {"name": "sgd", "lr": 100.0}, "epochs": 5})


class _CtrlC:
    """A callback that presses Ctrl-C at step ``at``."""

    def __init__(self, at: int):
        self.at = at

    def on_step(self, trainer, step, loss):
        if step == self.at:
            raise KeyboardInterrupt

    def on_epoch(self, trainer, epoch, row):
        return False


def _files(folder) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path, with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _entries(root) -> list[str]:
    return sorted(p.name for p in root.iterdir())


@pytest.fixture
def completed(tmp_path):
    """A completed run ``r`` (with figures) under tmp_path, and its files."""
    run = save_run(fit(_config()), tmp_path)
    return run, _files(run)


@pytest.mark.parametrize("result", [lambda: fit(_diverging()), lambda: fit(_config(epochs=5), callbacks=[_CtrlC(6)])],
                         ids=["diverged", "interrupted"])
def test_incomplete_run_is_kept_beside_a_completed_one(completed, result):
    run, before = completed
    result = result()
    assert result.stop_reason in ("diverged", "interrupted")
    beside = save_run(result, run.parent)
    assert _files(run) == before  # bit for bit
    assert beside.parent == run.parent and beside.name.startswith(f"r.{result.stop_reason}-")
    assert load_model(beside / "model.npz").meta["stop_reason"] == result.stop_reason
    assert _entries(run.parent) == sorted(["r", beside.name])  # no temporary folder left


def test_first_incomplete_run_takes_its_name_and_the_next_goes_beside(tmp_path):
    first = save_run(fit(_diverging()), tmp_path)
    second = save_run(fit(_diverging()), tmp_path)
    assert first == tmp_path / "r" and second.name.startswith("r.diverged-")
    third = save_run(fit(_diverging()), tmp_path)  # within the same second it is numbered
    assert len({first, second, third}) == 3 and all(p.is_dir() for p in (first, second, third))


def test_completed_run_replaces_the_folder_as_a_whole(completed):
    run, before = completed
    assert "figures/history.png" in before
    save_run(fit(_config(seed=5)), run.parent, figures=False)
    assert sorted(_files(run)) == ["config.json", "history.csv", "model.npz"]  # no stale figures
    assert _files(run)["config.json"] != before["config.json"]
    assert _entries(run.parent) == ["r"]


@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failure_while_writing_leaves_the_old_run_intact(completed, monkeypatch, error):
    run, before = completed

    def broken(history, path):
        path.write_text("epoch\n1")  # half a file, in the temporary folder
        raise error

    monkeypatch.setattr(runs, "write_history", broken)
    with pytest.raises(type(error)):
        save_run(fit(_config(seed=5)), run.parent)
    assert _files(run) == before and _entries(run.parent) == ["r"]


def test_interrupted_between_the_renames_puts_the_old_run_back(completed, monkeypatch):
    run, before = completed
    real = os.rename

    def rename(src, dst):
        real(src, dst)
        if str(dst).endswith(".old"):  # the old run was moved aside: Ctrl-C before the new one is in
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        save_run(fit(_config(seed=5)), run.parent)
    monkeypatch.undo()
    assert _files(run) == before and _entries(run.parent) == ["r"]


def test_two_writers_of_one_name_the_later_complete_one_wins(tmp_path, monkeypatch):
    a, b = fit(_config(seed=1)), fit(_config(seed=2))
    save_run(fit(_config(seed=0)), tmp_path)
    real, done = os.rename, []

    def rename(src, dst):
        real(src, dst)
        if str(dst).endswith(".old") and not done:
            # writer b saves its whole run while a has moved the old one aside
            done.append(save_run(b, tmp_path))

    monkeypatch.setattr(os, "rename", rename)
    run = save_run(a, tmp_path)
    monkeypatch.undo()
    assert done == [tmp_path / "r"]  # b's run was in place, then a (renaming last) replaced it
    assert RunConfig.from_json((run / "config.json").read_text()).seed == 1
    saved = load_model(run / "model.npz").net.state_dict()
    assert all(np.array_equal(saved[k], v) for k, v in a.net.state_dict().items())
    assert read_history(run / "history.csv")["train_loss"] == [float(v) for v in a.history["train_loss"]]
    assert _entries(tmp_path) == ["r"]  # neither writer left a half or hidden folder


@pytest.fixture(params=[0o022, 0o077, 0o002], ids=oct)
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_run_files_and_folders_get_the_umasks_modes(tmp_path, umask):
    run = save_run(fit(_config(probe_every=2)), tmp_path)
    paths = [run, *run.rglob("*")]
    assert {p.name for p in paths} >= {"model.npz", "history.csv", "probes.npz", "history.png", "figures"}
    for p in paths:
        assert _mode(p) == (0o777 if p.is_dir() else 0o666) & ~umask, p


def test_atomic_file_gets_the_umasks_mode(tmp_path, umask):
    with atomic_file(tmp_path / "p.csv") as f:
        f.write("x\n")
    assert _mode(tmp_path / "p.csv") == 0o666 & ~umask


def test_figure_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    fig = canvas.new_figure((2, 2))
    fig.add_subplot().plot([0, 1])
    path = canvas.save(fig, tmp_path / "f.png")
    before = path.read_bytes()
    assert before.startswith(b"\x89PNG")

    def half(target, **kwargs):
        (target if hasattr(target, "write") else open(target, "wb")).write(before[:10])
        raise OSError("disk full")

    monkeypatch.setattr(fig, "savefig", half)
    with pytest.raises(OSError, match="disk full"):
        canvas.save(fig, path)
    assert path.read_bytes() == before and _entries(tmp_path) == ["f.png"]


# --- the command: exit status and where the run went ------------------------------------


def _train(argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        cli.main(["train", "--dataset", "spiral", "--samples", "80", "--name", "x", *argv])
    return exc.value.code, capsys.readouterr().err


DIVERGE = ["--layers", "32,32,32,32", "--activation", "relu", "--optimizer", "sgd", "--lr", "100", "--epochs", "5"]


def test_exit_status_tells_the_outcome_and_a_good_run_is_kept(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = _train(["--epochs", "2", "--layers", "6"], capsys)
    assert code == 0 and "run written to runs/x/" in err
    good = _files(tmp_path / "runs/x")
    code, err = _train(DIVERGE, capsys)
    assert code == 3
    diverged = [n for n in _entries(tmp_path / "runs") if n.startswith("x.diverged-")]
    assert len(diverged) == 1 and f"run written to runs/{diverged[0]}/" in err
    assert "runs/x/ already holds a run: kept as it was" in " ".join(err.split())
    ctrl_c = _CtrlC(3)
    monkeypatch.setattr(cli._ProgressCallback, "on_step", lambda self, trainer, step, loss: ctrl_c.on_step(
        trainer, step, loss))
    code, err = _train(["--epochs", "3", "--layers", "6"], capsys)
    assert code == 130 and "interrupted" in err
    assert len([n for n in _entries(tmp_path / "runs") if n.startswith("x.interrupted-")]) == 1
    assert _files(tmp_path / "runs/x") == good


def test_no_figures_after_a_run_with_figures_leaves_none(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _train(["--epochs", "1", "--layers", "6"], capsys)[0] == 0
    assert (tmp_path / "runs/x/figures/history.png").is_file()
    assert _train(["--epochs", "1", "--layers", "6", "--no-figures"], capsys)[0] == 0
    assert not (tmp_path / "runs/x/figures").exists()
