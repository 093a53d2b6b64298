"""Several starts (``n_init``), shared by IIC and GMVAE: the lowest loss goes on."""
import json

import numpy
import pytest

from chainclust import datasets, GMVAE, IIC
from chainclust.errors import ParameterError

CASES = {
    'iic': (IIC, dict(n_clusters=4, n_subheads=2, overclustering=2, copies=2, batch_size=32,
                      lr=1e-3, random_state=0), ('mnist', 96)),
    'gmvae': (GMVAE, dict(n_clusters=6, hidden_dims=(64,), x_dim=6, w_dim=3, prior_hidden=32,
                          lr=1e-3, batch_size=50, random_state=0), ('digits', 300)),
}


@pytest.mark.parametrize('method', sorted(CASES))
def test_several_starts_continue_the_lowest_loss(method, tmp_path):
    cls, settings, (name, n) = CASES[method]
    data = datasets.load(name).subset(n, random_state=0)
    out = str(tmp_path / 'starts')
    settings = dict(settings, epochs=3, n_init=3, init_epochs=1)
    model = cls(out=out, **settings).fit(data.x)
    finals = []
    for i in range(3):
        with open('%s/start%d/log' % (out, i)) as f:
            finals.append(json.load(f)[-1]['main/loss'])
    assert model.start_losses_ == finals
    assert len(set(finals)) == 3  # each from its own initial weights
    with open(out + '/train/log') as f:
        assert len(json.load(f)) == 2  # epochs - init_epochs
    with open(out + '/train/key.json') as f:
        assert json.load(f)['params']['start'] == int(numpy.argmin(finals))
    again = cls(out=out, **settings).fit(data.x)  # finished phases load: the same labels
    numpy.testing.assert_array_equal(again.labels_, model.labels_)


@pytest.mark.parametrize('method', sorted(CASES))
def test_starts_need_epochs_left(method):
    cls, settings, (name, n) = CASES[method]
    data = datasets.load(name).subset(n, random_state=0)
    with pytest.raises(ParameterError, match=r'init_epochs \(2\) must be below epochs \(2\)'):
        cls(**dict(settings, epochs=2, n_init=3, init_epochs=2)).fit(data.x)
