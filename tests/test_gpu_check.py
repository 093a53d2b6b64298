"""tools/gpu_check.py, the one-command GPU verification, checked in its CPU dry-run mode."""
import importlib.util
import json
import os

import chainer
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def gpu_check():
    spec = importlib.util.spec_from_file_location(
        'gpu_check', os.path.join(ROOT, 'tools', 'gpu_check.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_runs_every_step_and_reports(gpu_check, tmp_path, capsys):
    out = str(tmp_path)
    status = gpu_check.main(['--dry-run', '--out', out, '--methods', 'vqae',
                             '--tests', os.path.join(ROOT, 'tests', 'functions_tests',
                                                     'test_vq_functions.py')])
    assert status == 0
    with open(os.path.join(out, 'gpu_check.json')) as f:
        report = json.load(f)
    assert report['ok'] and report['dry_run']
    assert report['environment']['device'] == '@numpy'
    ok, tests = report['tests']
    assert ok and '--collect-only' in tests['command'] and 'collected' in tests['tail'][-1]
    ok, training = report['training']
    assert ok and list(training) == ['vqae']
    assert training['vqae']['gpu']['loss'] == training['vqae']['cpu']['loss']  # both on CPU
    ok, kernels = report['kernels']
    assert ok and {'dec_kl_divergence', 'iic_loss', 'z_prior_kl'} <= set(kernels)
    assert all(row['values_agree'] and row['node_ms'] > 0 for row in kernels.values())
    with open(os.path.join(out, 'gpu_check.md')) as f:
        text = f.read()
    assert 'Overall: **ok**' in text and '| vqae |' in text and '| iic_loss |' in text


@pytest.mark.skipif(chainer.backends.cuda.available, reason='this machine has a GPU')
def test_without_a_gpu_it_fails_and_says_why(gpu_check, tmp_path, capsys):
    status = gpu_check.main(['--out', str(tmp_path), '--steps', 'kernels'])
    assert status == 1
    with open(os.path.join(str(tmp_path), 'gpu_check.json')) as f:
        report = json.load(f)
    assert not report['ok'] and 'use --dry-run' in report['environment']['error']
    assert 'kernels' not in report  # nothing ran on a device that is not there
