"""A surface shared by two processes (jax.distributed, gloo collectives on the CPU) equals the one-process surface."""

import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from jaxdigits import landscape

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WORKER = textwrap.dedent(
    """
    import sys
    import jax
    import numpy as np

    coordinator, processes, me, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if processes > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(coordinator, num_processes=processes, process_id=me)
    from jaxdigits import landscape, load_dataset
    from jaxdigits.network import VideoLoss
    from tests.conftest import numpy_net, two_directions

    digits = load_dataset("digits")
    net = numpy_net((64, 16, 16, 10))
    loss, data = VideoLoss(), (digits.test_images, digits.test_labels)
    alphas, betas = landscape.axis(1.0, 9), landscape.axis(0.5, 7)  # 63 points: not a multiple of 2
    plain = landscape.surface(loss, net, data, two_directions(net), alphas, betas, metrics={"accuracy": loss.accuracy})
    kept = landscape.surface(loss, net, data, two_directions(net), alphas, betas, file=out + ".h5", points_per_write=10)
    np.savez(f"{out}-{me}.npz", cost=plain.cost, accuracy=plain.accuracy, kept=kept.cost, count=jax.process_count())
    if processes > 1:
        jax.distributed.shutdown()
    """
)


def launch(processes, out):
    with socket.socket() as s:  # a free port for the coordinator
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": ROOT, "JAX_PLATFORMS": "cpu"}
    command = [sys.executable, "-c", WORKER, f"localhost:{port}", str(processes)]
    workers = [
        subprocess.Popen(command + [str(i), str(out)], env=env, cwd=ROOT, stderr=subprocess.PIPE)
        for i in range(processes)
    ]
    for w in workers:
        assert w.wait(timeout=600) == 0, w.stderr.read().decode()[-3000:]
    return [np.load(f"{out}-{i}.npz") for i in range(processes)]


@pytest.mark.slow
def test_two_processes_give_the_one_process_surface(tmp_path):
    (one,) = launch(1, tmp_path / "one")
    shared = launch(2, tmp_path / "two")
    assert [int(r["count"]) for r in shared] == [2, 2]
    for result in shared:  # every process holds the whole surface
        for key in ("cost", "accuracy", "kept"):
            np.testing.assert_array_equal(result[key], one[key])
    two_file = landscape.open_surface_file(tmp_path / "two.h5")  # written by process 0
    assert two_file["done"].all()
    np.testing.assert_array_equal(two_file["cost"], one["kept"])
