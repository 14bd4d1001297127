"""Adversarial cases: writes that fail or are interrupted never leave a damaged file.

A full disk (a real 1 MiB tmpfs, mounted as root, filled up) and a file size limit
(RLIMIT_FSIZE: EFBIG) during the table, model and prediction writes; a signal while the final
model is written; temporary files left by killed writes; the modes of the files written.
"""

import os
import resource
import signal
import socket
import stat
import subprocess

import h5py
import pytest
from harness import completed, fingerprint, mpidl_argv, refused, run, temp_files
from launcher import forwards_sigterm, mpirun_argv
from shared_inputs import inputs, write_job

pytestmark = [pytest.mark.adversarial, pytest.mark.mpi_skip]

COMMANDS = ["import", "train", "predict"]


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return inputs(tmp_path_factory.mktemp("writes"))


def _command(kind, work, out):
    """``kind`` on the wide inputs (each output is larger than 64 KiB) writing ``out``."""
    return {"import": ["import", work / "wide.csv", "-o", out],
            "train": ["train", work / "wide.toml", "-o", out],
            "predict": ["predict", work / "wide.h5", work / "wide.csv", "-o", out]}[kind]


@pytest.fixture
def full_disk(tmp_path):
    """A 1 MiB tmpfs holding ``older.out`` (a file a failed write must not damage) and a
    filler file up to the last byte.  Needs root; skipped without it, except where
    MPIDL_TEST_MOUNT=require (.ci/run as root), where it fails instead."""
    folder = tmp_path / "full"
    folder.mkdir()
    required = os.environ.get("MPIDL_TEST_MOUNT") == "require"   # .ci/run as root
    give_up = pytest.fail if required else pytest.skip
    if os.geteuid() != 0:
        give_up("mounting a tmpfs needs root (CI runs the matrix as root)")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        give_up(f"mount not allowed here: {mounted.stderr.strip()}")
    try:
        (folder / "older.out").write_bytes(b"an older output")
        fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@pytest.mark.parametrize("kind", COMMANDS)
def test_disk_full(kind, work, full_disk):
    """The disk fills during the write: one line naming the output, exit 2, no temp file,
    the older file at the destination intact."""
    out = full_disk / "older.out"
    before = fingerprint([out])
    proc = run(_command(kind, work, out), cwd=work)
    refused(proc, "older.out", "No space left on device", untouched=before)
    assert temp_files(full_disk) == []


@pytest.mark.parametrize("kind", ["train", "predict"])
def test_disk_full_under_mpi(kind, work, full_disk):
    """The same on 2 ranks: rank 0's failed write is agreed, one line, exit 2 on every rank."""
    out = full_disk / "older.out"
    before = fingerprint([out])
    proc = run(_command(kind, work, out), cwd=work, ranks=2)
    refused(proc, "older.out", "No space left on device", untouched=before)
    assert temp_files(full_disk) == []


@pytest.mark.parametrize("kind", COMMANDS)
def test_file_size_limit(kind, work, tmp_path):
    """ulimit -f 32 KiB: the write fails with EFBIG: one line, exit 2, no temp file."""
    out = tmp_path / "older.out"
    out.write_bytes(b"an older output")
    before = fingerprint([out])
    proc = run(_command(kind, work, out), cwd=work, file_size_limit=32 * 1024)
    refused(proc, "older.out", "File too large", untouched=before)
    assert temp_files(tmp_path) == []


def _signal_when(args, cwd, prefix: str, signum: int, file_size_limit: int | None = None,
                 ranks: int | None = None):
    """Run mpidl ARGS (under ``mpirun -n RANKS`` when given); send ``signum`` (to mpirun, which
    forwards it to every rank) once a stdout line starts with ``prefix``."""
    def limit():
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    argv = (mpirun_argv(ranks) if ranks else []) + mpidl_argv(args)
    with subprocess.Popen(argv, cwd=cwd, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, preexec_fn=limit) as p:
        out = []
        for line in p.stdout:
            out.append(line)
            if line.startswith(prefix):
                p.send_signal(signum)
                break
        rest, err = p.communicate(timeout=120)
    return subprocess.CompletedProcess(p.args, p.returncode, "".join(out) + rest, err)


@pytest.mark.parametrize("signum,ranks", [(signal.SIGTERM, None), (signal.SIGUSR1, None),
                                          (signal.SIGTERM, 2)],
                         ids=["SIGTERM", "SIGUSR1", "SIGTERM-2-ranks"])
def test_signal_during_final_model_write(signum, ranks, work, tmp_path):
    """A signal once training has ended (the final model being written): the write completes,
    exit 0, the model whole, no temp file."""
    job = write_job(tmp_path, data=str(work / "wide.csv"), response="y", ignored=(),
                    hidden=(512, 512))
    model = tmp_path / "m.h5"
    # "memory per rank" is printed just before the final write
    proc = _signal_when(["train", job, "-o", model], tmp_path, "memory per rank", signum,
                        ranks=ranks)
    if ranks is None or forwards_sigterm():
        completed(proc)
        assert "the model is complete" in proc.stdout
    else:  # Open MPI's mpirun: SIGKILL 1 s after SIGTERM, exit 1 (docs/mpi_families.md);
        # the rename is atomic: no model, or a whole one (a SIGKILLed temp file is removed
        # by the next write to that path)
        assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
        if not model.exists():
            return
    with h5py.File(model, "r") as f:
        assert f["buf"].shape[0] > 512 * 512
    if ranks is None or forwards_sigterm():
        assert temp_files(tmp_path) == []


def _long_job(work, folder):
    """A job that trains far longer than a test waits, scoring every iteration."""
    path = write_job(folder, data=str(work / "wide.csv"), response="y", ignored=(),
                     hidden=(128, 128))
    path.write_text(path.read_text().replace("epochs = 1", "epochs = 100000") +
                    "score_each_iteration = true\ntrain_samples_per_iteration = 600\n")
    return path


def test_checkpoint_on_a_full_disk(work, full_disk):
    """SIGTERM during training with the output on a full disk: the checkpoint cannot be
    written: one line naming it, exit 2 (not 75), the older file intact."""
    out = full_disk / "older.out"
    before = fingerprint([out])
    proc = _signal_when(["train", _long_job(work, full_disk.parent), "-o", out], work, "iter",
                        signal.SIGTERM)
    refused(proc, "older.out", "No space left on device", untouched=before)
    assert temp_files(full_disk) == []


def test_checkpoint_past_the_file_size_limit(work, tmp_path):
    """SIGUSR1 during training under ulimit -f 32 KiB: the checkpoint fails with EFBIG:
    one line, exit 2, the older file intact, no temp file."""
    out = tmp_path / "older.out"
    out.write_bytes(b"an older output")
    before = fingerprint([out])
    proc = _signal_when(["train", _long_job(work, tmp_path), "-o", out], work, "iter",
                        signal.SIGUSR1, file_size_limit=32 * 1024)
    refused(proc, "older.out", "File too large", untouched=before)
    assert temp_files(tmp_path) == []


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


@pytest.mark.parametrize("kind,name", [("train", "m.h5"), ("predict", "p.csv")])
def test_stale_temp_files_cleaned(kind, name, work, tmp_path):
    """Temp files of killed writes to the same output (this host, dead pid) are removed on the
    next write; a live writer's, another host's and another output's are kept."""
    host, dead = socket.gethostname(), _dead_pid()
    stale = tmp_path / f".{name}.tmp-{host}-{dead}-0123456789ab"
    kept = [tmp_path / f".{name}.tmp-{host}-{os.getpid()}-0123456789ab",
            tmp_path / f".{name}.tmp-elsewhere-{dead}-0123456789ab",
            tmp_path / f".other.{name}.tmp-{host}-{dead}-0123456789ab"]
    for p in [stale, *kept]:
        p.write_bytes(b"partial")
    args = (["train", work / "job.toml", "-o", tmp_path / name] if kind == "train" else
            ["predict", work / "model.h5", work / "prostate.csv", "-o", tmp_path / name])
    completed(run(args, cwd=tmp_path))
    assert not stale.exists()
    assert all(p.exists() for p in kept)


@pytest.mark.parametrize("umask", [0o022, 0o027], ids=["umask022", "umask027"])
@pytest.mark.parametrize("kind", COMMANDS)
def test_written_files_honour_the_umask(kind, umask, work, tmp_path):
    """Tables, models and predictions get mode 0666 less the umask (0644 / 0640), as any file
    a program creates, so others on a shared cluster can read them."""
    out = tmp_path / "out"
    completed(run(_command(kind, work, out), cwd=work, umask=umask))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o666 & ~umask
