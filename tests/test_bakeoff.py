"""``chainclust bakeoff``: every comparison measured, every figure there, every table filled."""
from html.parser import HTMLParser
import json
import os

from click.testing import CliRunner
import numpy
import pytest

from chainclust import Autoencoder, datasets
from chainclust.bakeoff import run_bakeoff, split_indices
from chainclust.cli import main
from chainclust.errors import ParameterError


class _Page(HTMLParser):
    """The images and table cells of an HTML page."""

    def __init__(self):
        super(_Page, self).__init__()
        self.images, self.tables, self._cell = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == 'img':
            self.images.append(dict(attrs)['src'])
        elif tag == 'table':
            self.tables.append([])
        elif tag == 'tr':
            self.tables[-1].append([])
        elif tag in ('td', 'th'):
            self._cell = ''

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data

    def handle_endtag(self, tag):
        if tag in ('td', 'th'):
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None


@pytest.fixture(scope='module')
def small():
    return datasets.load('digits').subset(500, random_state=0)


@pytest.fixture(scope='module')
def bakeoff(small, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('bakeoff'))
    results = run_bakeoff(small, out, ['deep', 'vae', 'vq_vae'], epochs=3, latent_dim=4,
                          probe_labels=100, batch_size=50, seed=0)
    return out, results


def test_every_comparison_is_measured(bakeoff):
    out, results = bakeoff
    assert results['n_train'] == 400 and results['n_test'] == 100
    for kind, m in results['models'].items():
        assert m['reconstruction_bce'] > 0
        assert 0 <= m['linear_probe'] <= 1 and 0 <= m['anomaly_auc'] <= 1
        assert set(m['kmeans']) >= {'acc', 'nmi', 'ari'}
        # every model is a result folder the rest of chainclust accepts
        model = Autoencoder.load(os.path.join(out, m['result_folder']))
        assert model.kind == kind and model.latent_dim == 4
        assert os.path.exists(os.path.join(out, 'anomaly', kind, 'model.json'))
    # three epochs on 400 digits: weak codes, but better than chance (about 0.1)
    assert max(m['linear_probe'] for m in results['models'].values()) > 0.15
    assert results['probe_from_scratch'] > 0.3
    assert set(results['figures']) == {'reconstructions', 'samples', 'interpolation',
                                       'latent', 'anomaly_roc'}
    with open(os.path.join(out, 'results.json')) as f:
        assert json.load(f)['models'].keys() == results['models'].keys()


def test_html_report_references_existing_figures_and_fills_every_table(bakeoff):
    out, results = bakeoff
    page = _Page()
    with open(os.path.join(out, 'report.html')) as f:
        page.feed(f.read())
    assert len(page.images) == len(results['figures'])
    for src in page.images:
        assert not os.path.isabs(src)  # the folder is viewable anywhere, offline
        path = os.path.join(out, src)
        with open(path, 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n', src
    assert len(page.tables) == 4
    for table in page.tables:
        header, rows = table[0], table[1:]
        assert rows, header
        for row in rows:
            assert len(row) == len(header) and all(row), (header, row)
    with open(os.path.join(out, 'report.md')) as f:
        markdown = f.read()
    for src in page.images:
        assert '(%s)' % src in markdown


def test_a_second_run_reuses_the_trained_models(bakeoff, small):
    out, results = bakeoff
    done = [os.path.join(out, folder, kind, 'train', 'done.npz')
            for folder in ('models', 'anomaly') for kind in results['models']]
    done.append(os.path.join(out, 'probe_from_scratch', 'train', 'done.npz'))
    written = [os.stat(path).st_mtime_ns for path in done]
    again = run_bakeoff(small, out, ['deep', 'vae', 'vq_vae'], epochs=3, latent_dim=4,
                        probe_labels=100, batch_size=50, seed=0)
    assert [os.stat(path).st_mtime_ns for path in done] == written  # loaded, not retrained
    for kind in results['models']:
        assert again['models'][kind]['reconstruction_bce'] == pytest.approx(
            results['models'][kind]['reconstruction_bce'])
    from chainclust.errors import ResumeError
    with pytest.raises(ResumeError, match='epochs'):
        run_bakeoff(small, out, ['deep'], epochs=4, latent_dim=4, probe_labels=100,
                    batch_size=50, seed=0)


def test_without_labels_the_label_comparisons_are_left_out_and_said(small, tmp_path):
    unlabelled = datasets.Dataset(small.x[:200], None, 'unlabelled')
    results = run_bakeoff(unlabelled, str(tmp_path), ['shallow', 'sparse'], epochs=1,
                          latent_dim=3, batch_size=40, n_clusters=4)
    assert 'probe_from_scratch' not in results
    assert any('no labels' in n for n in results['notices'])
    assert any('no generative model' in n for n in results['notices'])
    assert set(results['figures']) == {'reconstructions', 'interpolation', 'latent'}


def test_split_is_seeded_and_disjoint():
    train, test = split_indices(50, 0.2, 3)
    assert len(test) == 10 and not set(train) & set(test)
    numpy.testing.assert_array_equal(split_indices(50, 0.2, 3)[1], test)
    with pytest.raises(ParameterError, match='fewer than 2 training or held-out'):
        split_indices(30, 0.01, 0)


def test_small_probes_train_and_a_one_class_probe_is_refused(small, tmp_path):
    results = run_bakeoff(small, str(tmp_path / 'a'), ['shallow'], epochs=1, latent_dim=3,
                          probe_labels=10, batch_size=40)
    assert results['probe_labels'] == 10 and 'probe_from_scratch' in results
    one_class = datasets.Dataset(small.x[:100], numpy.zeros(100, numpy.int64), 'one')
    with pytest.raises(ParameterError, match='hold one class'):
        run_bakeoff(one_class, str(tmp_path / 'b'), ['shallow'], epochs=1, probe_labels=20)


def test_cli_names_unknown_models(tmp_path):
    result = CliRunner().invoke(main, ['bakeoff', '--data', 'digits', '--models',
                                       'deep,wavelet', '--out', str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown autoencoder(s) wavelet; choose from shallow, deep" in result.output
    assert 'Traceback' not in result.output


def test_dec_from_each_backbone_joins_the_clustering_table(small, tmp_path):
    results = run_bakeoff(small, str(tmp_path), ['denoising'], epochs=2, latent_dim=4,
                          probe_labels=100, batch_size=50,
                          dec={'max_iter': 300, 'update_interval': 30, 'n_init': 2})
    scores = results['models']['denoising']['dec']
    assert set(scores) >= {'acc', 'nmi', 'ari'} and scores['nmi'] > 0.2
    assert os.path.exists(os.path.join(str(tmp_path), 'dec', 'denoising', 'model.json'))
    page = _Page()
    with open(os.path.join(str(tmp_path), 'report.html')) as f:
        page.feed(f.read())
    clustering = [t for t in page.tables if 'DEC ACC' in t[0]]
    assert len(clustering) == 1 and all(clustering[0][1])
