"""Check chainclust's GPU path in one command, on a machine with CUDA and CuPy.

Steps (each one's outcome goes to the report; the exit status is 1 if any failed):

1. ``environment``: Python, NumPy, Chainer, CuPy, cuDNN and the GPU's name.
2. ``tests``: ``pytest -m gpu`` (every FunctionNode's forward_gpu and
   backward, gradient checks included, and the GPU variants of the model tests).
3. ``training``: each method trains a few epochs on the GPU and on the CPU from
   the same seed on the same samples; the report gives both wall times, the
   final training loss and the metrics, and fails a method whose GPU loss is not
   finite or is far from the CPU's (the two differ by float rounding only, which
   grows over training, so the check is loose: ``--loss-rtol``).
4. ``kernels``: forward + backward time of each hand-written FunctionNode
   against the same formula composed from ``chainer.functions`` on the GPU.

``--dry-run`` runs every step on the CPU with tiny sizes (the tests are only
collected), to check the script itself where no GPU is (CI does this).

On a lent GPU machine (DEVELOPERS.md: carry the wheels that ``tools/gpu_wheels.sh``
builds here), from the repository root::

    bash tools/gpu_check.sh --out $OUT          # installs .whl/*.whl, then this script
    python tools/gpu_check.py --dry-run --out /tmp/gpu-check    # here, on the CPU

Writes ``OUT/gpu_check.json`` and ``OUT/gpu_check.md``.
"""
import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

import chainclust  # NOQA: E402 (compat before chainer)
import chainer  # NOQA: E402
import numpy  # NOQA: E402

from chainclust.datasets import load  # NOQA: E402
from chainclust.functions import composed  # NOQA: E402
import chainclust.functions as CF  # NOQA: E402
from chainclust.functions.sparsity_kl import composed_sparsity_kl  # NOQA: E402


def method_estimators(epochs):
    """name -> (estimator class, parameters) of a short training of each method."""
    from chainclust import DEC, GMVAE, IIC, VQAE, Autoencoder
    return {
        'dec': (DEC, {'finetune_epochs': epochs, 'n_init': 5, 'max_iter': 40 * epochs,
                      'update_interval': 20}),
        'vqae': (VQAE, {'pretrain_epochs': epochs, 'epochs': epochs, 'batch_size': 256}),
        'autoencoder': (Autoencoder, {'kind': 'vae', 'epochs': epochs}),
        'gmvae': (GMVAE, {'epochs': epochs, 'lr': 1e-3}),
        'iic': (IIC, {'epochs': epochs, 'lr': 1e-3}),
    }


def final_loss(out):
    """The last ``main/loss`` in any phase log under ``out`` (the last phase's)."""
    best = None
    for folder, _, files in os.walk(out):
        if 'log' in files:
            with open(os.path.join(folder, 'log')) as f:
                entries = [e for e in json.load(f) if 'main/loss' in e]
            if entries:
                mtime = os.path.getmtime(os.path.join(folder, 'log'))
                if best is None or mtime > best[0]:
                    best = (mtime, entries[-1]['main/loss'])
    return None if best is None else best[1]


def train_once(cls, params, data, device, seed):
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        model = cls(device=device, random_state=seed, out=out, **params).fit(data.x, data.y)
        seconds = time.perf_counter() - start
        return {'seconds': round(seconds, 2), 'loss': final_loss(out),
                'metrics': {k: round(v, 4) for k, v in (model.metrics_ or {}).items()}}


def check_training(args):
    data = load('mnist').subset(args.samples, random_state=0)
    results, ok = {}, True
    for name, (cls, params) in method_estimators(args.epochs).items():
        if args.methods and name not in args.methods:
            continue
        row = {}
        try:
            row['gpu'] = train_once(cls, params, data, args.device, args.seed)
            row['cpu'] = train_once(cls, params, data, '@numpy', args.seed)
            gpu, cpu = row['gpu']['loss'], row['cpu']['loss']
            row['loss_close'] = bool(gpu is not None and cpu is not None and math.isfinite(gpu)
                                     and abs(gpu - cpu) <= args.loss_rtol * abs(cpu) + 1e-6)
            row['ok'] = row['loss_close']
        except Exception as e:  # noqa: BLE001 - the report names every failure
            row.update(ok=False, error='%s: %s' % (type(e).__name__, e),
                       traceback=traceback.format_exc(limit=8))
        ok &= row['ok']
        results[name] = row
    return ok, results


# -- kernels: hand-written node against its composition -------------------------------
def kernel_cases(xp, scale):
    """name -> (node call, composed call, input arrays) at sizes of real use."""
    rs = numpy.random.RandomState(0)

    def arr(*shape, positive=False):
        a = rs.rand(*shape) + 0.1 if positive else rs.randn(*shape)
        return xp.asarray(a.astype(numpy.float32))

    n = max(8, int(4096 * scale))
    p = arr(n, 10, positive=True)
    p /= p.sum(axis=1, keepdims=True)
    k, dx = 16, max(4, int(200 * scale))
    log_pz = xp.log(p[:, :10] / p[:, :10].sum(axis=1, keepdims=True))
    log_pz16 = xp.asarray(numpy.log(rs.dirichlet(numpy.ones(k), n)).astype(numpy.float32))
    z = xp.asarray(rs.dirichlet(numpy.ones(10), n).astype(numpy.float32))
    zp = xp.asarray(rs.dirichlet(numpy.ones(10), n).astype(numpy.float32))
    h = xp.asarray(rs.rand(n, 64).astype(numpy.float32) * 0.9 + 0.05)
    return {
        'dec_kl_divergence': (lambda a, b, c: CF.dec_kl_divergence(a, b, c),
                              lambda a, b, c: composed.dec_loss(a, b, c),
                              (arr(n, 10), arr(10, 10), p)),
        'student_t_assignment': (CF.student_t_assignment, composed.student_t_assignment,
                                 (arr(n, 10), arr(10, 10))),
        'gaussian_mixture_posterior': (CF.gaussian_mixture_posterior,
                                       composed.gaussian_mixture_posterior,
                                       (arr(n, dx), arr(n, k, dx), arr(n, k, dx) * 0.1)),
        'conditional_prior_kl': (CF.conditional_prior_kl, composed.conditional_prior_kl,
                                 (log_pz16, arr(n, dx), arr(n, dx) * 0.1, arr(n, k, dx),
                                  arr(n, k, dx) * 0.1)),
        'z_prior_kl': (lambda a: CF.z_prior_kl(a, 0.5), lambda a: composed.z_prior_kl(a, 0.5),
                       (log_pz,)),
        'iic_loss': (lambda a, b: CF.iic_loss(a, b, 10.0),
                     lambda a, b: composed.iic_loss(a, b, 10.0), (z, zp)),
        'sparsity_kl': (lambda a: CF.sparsity_kl(a, 0.25),
                        lambda a: composed_sparsity_kl(a, 0.25), (h,)),
    }


def time_backward(fn, arrays, device, repeat):
    """Median seconds of one forward + backward (to a scalar), synchronised."""
    def once():
        variables = [chainer.Variable(a) for a in arrays]
        out = fn(*variables)
        out = chainer.functions.sum(out) if out.ndim else out
        out.backward()
        if device.xp is not numpy:
            device.device.synchronize()
    for _ in range(3):
        once()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        once()
        times.append(time.perf_counter() - start)
    return float(numpy.median(times))


def check_kernels(args):
    device = chainer.get_device(args.device)
    device.use()
    results, ok = {}, True
    for name, (node, twin, arrays) in kernel_cases(device.xp, args.kernel_scale).items():
        try:
            node_s = time_backward(node, arrays, device, args.repeat)
            twin_s = time_backward(twin, arrays, device, args.repeat)
            values = [float(chainer.backend.CpuDevice().send(chainer.functions.sum(f(*arrays)).array))
                      for f in (node, twin)]
            close = bool(numpy.isclose(values[0], values[1], rtol=1e-3, atol=1e-5))
            results[name] = {'node_ms': round(node_s * 1e3, 4), 'composed_ms': round(twin_s * 1e3, 4),
                             'speedup': round(twin_s / node_s, 2), 'values_agree': close,
                             'ok': close}
        except Exception as e:  # noqa: BLE001
            results[name] = {'ok': False, 'error': '%s: %s' % (type(e).__name__, e)}
        ok &= results[name]['ok']
    return ok, results


def check_tests(args):
    command = [sys.executable, '-m', 'pytest', '-m', 'gpu', '-q', '-p', 'no:cacheprovider',
               args.tests]
    if args.dry_run:
        command.append('--collect-only')
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
    return done.returncode == 0, {'command': ' '.join(command[1:]), 'returncode': done.returncode,
                                  'seconds': round(time.perf_counter() - start, 1),
                                  'tail': tail}


def environment(args):
    info = {'python': platform.python_version(), 'numpy': numpy.__version__,
            'chainer': chainer.__version__, 'device': args.device}
    cuda = chainer.backends.cuda
    info['cupy'] = cuda.cupy.__version__ if cuda.available else None
    info['cudnn'] = bool(cuda.cudnn_enabled) if cuda.available else False
    if args.device.startswith('@cupy'):
        if not cuda.available:
            return False, dict(info, error='CuPy cannot use a GPU here; use --dry-run on a CPU')
        index = int(args.device.split(':')[1])
        props = cuda.cupy.cuda.runtime.getDeviceProperties(index)
        info['gpu'] = props['name'].decode() if isinstance(props['name'], bytes) else props['name']
    return True, info


def markdown(report):
    lines = ['# GPU check (%s)' % ('dry run on the CPU' if report['dry_run'] else report['environment'].get('gpu')),
             '', 'Overall: **%s**' % ('ok' if report['ok'] else 'FAILED'), '',
             '```', json.dumps(report['environment'], indent=1), '```', '']
    tests = report.get('tests')
    if tests:
        lines += ['## pytest -m gpu: %s (%s s)' % ('ok' if tests[0] else 'FAILED', tests[1]['seconds']),
                  '', '```'] + tests[1]['tail'] + ['```', '']
    if report.get('training'):
        lines += ['## Training: %s vs CPU' % report['environment']['device'], '',
                  '| method | device s | CPU s | device loss | CPU loss | device ACC | CPU ACC | ok |',
                  '|---|---|---|---|---|---|---|---|']
        for name, row in report['training'][1].items():
            if 'error' in row:
                lines.append('| %s | %s | | | | | | no |' % (name, row['error'][:80]))
                continue
            g, c = row['gpu'], row['cpu']
            lines.append('| %s | %.1f | %.1f | %.5g | %.5g | %s | %s | %s |' % (
                name, g['seconds'], c['seconds'], g['loss'], c['loss'],
                g['metrics'].get('acc', '-'), c['metrics'].get('acc', '-'),
                'yes' if row['ok'] else 'no'))
        lines.append('')
    if report.get('kernels'):
        lines += ['## Hand-written nodes vs chainer.functions compositions (forward + backward)', '',
                  '| node | node ms | composed ms | speed-up | values agree |', '|---|---|---|---|---|']
        for name, row in report['kernels'][1].items():
            if 'error' in row:
                lines.append('| %s | %s | | | no |' % (name, row['error'][:80]))
            else:
                lines.append('| %s | %.3f | %.3f | %.2fx | %s |' % (
                    name, row['node_ms'], row['composed_ms'], row['speedup'],
                    'yes' if row['values_agree'] else 'NO'))
        lines.append('')
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', required=True, help='folder for gpu_check.json and .md')
    parser.add_argument('--device', default='@cupy:0')
    parser.add_argument('--dry-run', action='store_true',
                        help='CPU only, tiny sizes, tests collected but not run')
    parser.add_argument('--steps', nargs='+', default=['tests', 'training', 'kernels'],
                        choices=['tests', 'training', 'kernels'])
    parser.add_argument('--tests', default=os.path.join(ROOT, 'tests'),
                        help='what pytest -m gpu runs (default: every test)')
    parser.add_argument('--methods', nargs='+', choices=sorted(method_estimators(1)))
    parser.add_argument('--samples', type=int, default=2000)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--loss-rtol', type=float, default=0.25)
    parser.add_argument('--repeat', type=int, default=20)
    parser.add_argument('--kernel-scale', type=float, default=1.0)
    args = parser.parse_args(argv)
    if args.dry_run:
        args.device = '@numpy'
        args.samples, args.epochs = min(args.samples, 300), 1
        args.repeat, args.kernel_scale = min(args.repeat, 2), min(args.kernel_scale, 0.02)
    ok, env = environment(args)
    report = {'dry_run': args.dry_run, 'environment': env, 'ok': ok}
    if ok:
        for step, run in (('tests', check_tests), ('training', check_training),
                          ('kernels', check_kernels)):
            if step in args.steps:
                step_ok, detail = run(args)
                report[step] = [step_ok, detail]
                report['ok'] = report['ok'] and step_ok
    os.makedirs(args.out, exist_ok=True)
    from chainclust.io import atomic_path, write_json
    write_json(os.path.join(args.out, 'gpu_check.json'), report)
    with atomic_path(os.path.join(args.out, 'gpu_check.md')) as tmp:
        with open(tmp, 'w') as f:
            f.write(markdown(report))
    print(markdown(report))
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
