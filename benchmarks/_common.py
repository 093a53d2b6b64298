"""Helpers shared by the benchmark scripts: machine description, result files."""
import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = os.path.join(HERE, 'results')
sys.path.insert(0, os.path.dirname(HERE))


def machine():
    """A short description of the machine and library versions."""
    import chainer
    import numpy
    cpu = platform.processor() or platform.machine()
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    return {'cpu': cpu, 'cores': os.cpu_count(), 'python': platform.python_version(),
            'numpy': numpy.__version__, 'chainer': chainer.__version__,
            'commit': _commit()}


def _commit():
    try:
        return subprocess.check_output(['git', 'rev-parse', '--short', 'HEAD'],
                                       cwd=HERE, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def write_results(name, payload, table):
    """Write ``results/<name>.json`` and ``results/<name>.md`` (atomically)."""
    from chainclust.io import write_json, atomic_path
    os.makedirs(RESULTS, exist_ok=True)
    write_json(os.path.join(RESULTS, name + '.json'), payload)
    with atomic_path(os.path.join(RESULTS, name + '.md')) as tmp:
        with open(tmp, 'w') as f:
            f.write(table)
    sys.stdout.write(table)
