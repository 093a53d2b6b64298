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
    assert 0 <= results['probe_from_scratch'] <= 1
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
    again = run_bakeoff(small, out, ['deep', 'vae', 'vq_vae'], epochs=3, latent_dim=4,
                        probe_labels=100, batch_size=50, seed=0)
    for kind in results['models']:
        assert again['models'][kind]['reconstruction_bce'] == pytest.approx(
            results['models'][kind]['reconstruction_bce'])
        assert again['models'][kind]['wall_s'] < results['models'][kind]['wall_s'] + 5


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
    with pytest.raises(ParameterError, match='no training or no held-out'):
        split_indices(3, 0.01, 0)


def test_cli_names_unknown_models(tmp_path):
    result = CliRunner().invoke(main, ['bakeoff', '--data', 'digits', '--models',
                                       'deep,wavelet', '--out', str(tmp_path)])
    assert result.exit_code != 0
    assert "unknown autoencoder(s) wavelet; choose from shallow, deep" in result.output
    assert 'Traceback' not in result.output
