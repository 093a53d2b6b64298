import json
import os

from click.testing import CliRunner
import numpy
import pytest

from chainclust import __version__
from chainclust.cli import main

TINY = ['--hidden-dims', '16,16,32', '--embedding-dim', '4', '--pretrain-epochs', '1',
        '--finetune-epochs', '2', '--batch-size', '64', '--update-interval', '10',
        '--max-iter', '30', '--quiet']


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_version():
    result = run('--version')
    assert result.exit_code == 0 and __version__ in result.output


def test_help_everywhere():
    for args in ([], ['train'], ['train', 'dec'], ['evaluate']):
        result = run(*(args + ['--help']))
        assert result.exit_code == 0 and 'Usage' in result.output


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('cli') / 'result')
    result = run('train', 'dec', '--data', 'digits', '--limit', 400, '--clusters', 10,
                 '--out', out, '--seed', 1, *TINY)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_train_writes_result_folder(trained):
    out, output = trained
    for name in ('model.npz', 'model.json', 'labels.npy', 'cluster/log', 'finetune/log'):
        assert os.path.exists(os.path.join(out, name)), name
    labels = numpy.load(os.path.join(out, 'labels.npy'), allow_pickle=False)
    assert labels.shape == (400,)
    assert 'DEC:' in output and 'ACC' in output and 'NMI' in output
    with open(os.path.join(out, 'model.json')) as f:
        assert json.load(f)['augmentation'] == 'affine'  # --augment auto on 8x8 images


def test_evaluate_uses_recorded_data(trained):
    out, _ = trained
    result = run('evaluate', out)
    assert result.exit_code == 0, result.output
    assert '400 samples' in result.output and 'ACC' in result.output
    labels = numpy.load(os.path.join(out, 'labels.npy'), allow_pickle=False)
    sizes = [int(s) for s in result.output.split('sizes ')[1].split(')')[0].split()]
    assert sizes == numpy.bincount(labels, minlength=10).tolist()


def test_evaluate_other_data_without_labels(trained, tmp_path):
    out, _ = trained
    numpy.save(tmp_path / 'x.npy', numpy.random.RandomState(0).randint(
        0, 255, (7, 8, 8)).astype(numpy.uint8))
    result = run('evaluate', out, '--data', tmp_path / 'x.npy')
    assert result.exit_code == 0 and 'no labels' in result.output


def test_evaluate_wrong_shape(trained, tmp_path):
    out, _ = trained
    numpy.save(tmp_path / 'x.npy', numpy.zeros((3, 5)))
    result = run('evaluate', out, '--data', tmp_path / 'x.npy')
    assert result.exit_code == 1
    assert 'Error: X has samples of shape (5,), expected (8, 8)' in result.output
    assert 'Traceback' not in result.output


def test_clear_errors(tmp_path):
    numpy.save(tmp_path / 'flat.npy', numpy.random.RandomState(0).rand(40, 6))
    cases = [
        (['train', 'dec', '--data', tmp_path / 'flat.npy', '--augment', 'affine',
          '--clusters', 3, '--out', tmp_path / 'o'] + TINY,
         "augment='affine' needs image samples (H, W) or (H, W, C), got samples of shape (6,)"),
        (['train', 'dec', '--data', 'digits', '--augment', 'flip', '--out', tmp_path / 'o'],
         "Invalid value for '--augment'"),
        (['train', 'dec', '--data', tmp_path / 'none.npy', '--out', tmp_path / 'o'],
         'no such file'),
        (['evaluate', tmp_path], 'not a chainclust result folder'),
        (['train', 'dec', '--data', 'digits', '--hidden-dims', 'a,b', '--out', tmp_path / 'o'],
         'comma-separated positive integers expected'),
        (['train', 'dec', '--data', 'digits', '--clusters', 5000, '--out', tmp_path / 'o']
         + TINY, 'more than'),
    ]
    for args, message in cases:
        result = run(*args)
        assert result.exit_code != 0, args
        assert message in result.output, (args, result.output)
        assert 'Traceback' not in result.output


def test_train_help_lists_every_registered_method():
    from chainclust.estimators import ESTIMATORS
    output = run('train', '--help').output
    for method in ESTIMATORS:
        assert method in output


def test_method_help_shows_every_python_parameter():
    import inspect
    from chainclust.estimators import ESTIMATORS
    shared = {'n_clusters': '--clusters', 'random_state': '--seed', 'out': '--out',
              'device': '--device', 'normalize': '--normalize', 'verbose': '--quiet',
              'resume': '--force'}
    for method, cls in ESTIMATORS.items():
        output = run('train', method, '--help').output
        for name in inspect.signature(cls.__init__).parameters:
            if name != 'self':
                flag = shared.get(name, '--' + name.replace('_', '-'))
                assert flag in output, (method, name)
    assert '--codes' in run('train', 'vqae', '--help').output  # VQ-AE's old name for -k


@pytest.mark.parametrize('command', [['train', 'dec', '--data', 'digits'], ['evaluate', '.']])
@pytest.mark.parametrize('device,message', [
    ('@cupy:0', "'@cupy:0' needs a CUDA GPU with CuPy, and this machine has none"),
    ('garbage', "'garbage' is not a device"),
    ('@cupy:zero', "'@cupy:zero' is not a device"),
])
def test_device_errors_name_the_option_and_the_valid_forms(command, device, message):
    result = run(*(command + ['--device', device]))
    assert result.exit_code == 2
    assert "Invalid value for '--device'" in result.output and message in result.output
    assert "'@numpy' (CPU), '@cupy:N'" in result.output
    assert 'Traceback' not in result.output


def test_python_api_device_error():
    from chainclust import DEC
    from chainclust.devices import DeviceError
    with pytest.raises(DeviceError, match="device 'cuda' is not a device; use '@numpy'"):
        DEC(device='cuda').fit(numpy.zeros((20, 3)))


def test_changed_settings_are_refused_then_forced(tmp_path):
    out = str(tmp_path / 'r')
    args = ['train', 'dec', '--data', 'digits', '--limit', 150, '--clusters', 4, '--out', out,
            *TINY]
    assert run(*args).exit_code == 0
    changed = [a if a != '2' else '3' for a in map(str, args)]  # --finetune-epochs 3
    result = run(*changed)
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith('Error: ')
    assert os.path.join(out, 'finetune') in lines[0]
    assert 'finetune_epochs=2 there, 3 now' in lines[0] and '--force' in lines[0]
    layer0 = os.path.join(out, 'pretrain', 'layer0', 'done.npz')
    before = os.stat(layer0).st_mtime_ns
    result = run(*(changed + ['--resume', 'changed']))
    assert result.exit_code == 0, result.output
    assert os.stat(layer0).st_mtime_ns == before  # the matching pretraining was reused
    with open(os.path.join(out, 'model.json')) as f:
        assert json.load(f)['params']['finetune_epochs'] == 3
    result = run(*(args + ['--force']))
    assert result.exit_code == 0, result.output
    assert os.stat(layer0).st_mtime_ns != before  # everything trained again
    with open(os.path.join(out, 'model.json')) as f:
        assert json.load(f)['params']['finetune_epochs'] == 2


def test_unwritable_out_is_one_line(tmp_path):
    (tmp_path / 'file').write_text('not a folder')
    result = run('train', 'dec', '--data', 'digits', '--limit', 100, '--clusters', 3,
                  '--out', tmp_path / 'file' / 'sub', *TINY)
    assert result.exit_code == 1
    assert result.output.startswith('Error: ') and 'Not a directory' in result.output
    assert 'Traceback' not in result.output


def test_negative_seed_names_the_option():
    result = run('train', 'dec', '--data', 'digits', '--seed', -1)
    assert result.exit_code == 2 and "Invalid value for '--seed'" in result.output
