"""VQ-AE -> ONNX: distances, embeddings and labels agree with Chainer."""
import numpy
import pytest

from chainclust import datasets, VQAE
from chainclust_export import export_onnx
from chainclust_runtime import Assigner


@pytest.mark.parametrize('metric', ['euclidean', 'cosine'])
def test_vqae_parity(metric, tmp_path):
    data = datasets.load('digits').subset(400, random_state=2)
    model = VQAE(n_clusters=12, metric=metric, hidden_dims=(32, 16), code_dim=6,
                 pretrain_epochs=2, epochs=3, batch_size=100, random_state=0).fit(data.x)
    path = str(tmp_path / 'vqae.onnx')
    export_onnx(model, path)
    assigner = Assigner(path)
    assert assigner.score == 'distance' and assigner.n_clusters == 12
    numpy.testing.assert_allclose(assigner.transform(data.x), model.transform(data.x),
                                  atol=1e-5, rtol=0)
    numpy.testing.assert_allclose(assigner.distances(data.x), model.distances(data.x),
                                  atol=1e-5, rtol=0)
    numpy.testing.assert_array_equal(assigner.predict(data.x), model.predict(data.x))
    with pytest.raises(ValueError, match='distances, not probabilities'):
        assigner.predict_proba(data.x)
