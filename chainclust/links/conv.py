"""Convolutional encoders and their mirrored decoders (Conv/Deconv + batch norm + ReLU)."""
import chainer
import chainer.functions as F
import chainer.links as L

from chainclust.functions.convolution import convolution_2d
from chainclust.links.batch_norm_relu import BatchNormalizationReLU


class Convolution2D(L.Convolution2D):
    """``L.Convolution2D`` computed by :func:`chainclust.functions.convolution.convolution_2d`
    (one GEMM over channels-last patches on the CPU; Chainer's convolution elsewhere).

    Same parameters, initialisation and serialisation as Chainer's link; no
    dilation or groups.
    """

    def forward(self, x):
        if self.W.array is None:
            self._initialize_params(x.shape[1])
        if self.dilate != (1, 1) or self.groups != 1:
            return super(Convolution2D, self).forward(x)
        return convolution_2d(x, self.W, self.b, self.stride, self.pad)


def conv_output_size(size, ksize, stride, pad):
    """Spatial size after a convolution (Chainer's ``cover_all=False``)."""
    return (size + 2 * pad - ksize) // stride + 1


class ConvEncoder(chainer.Chain):
    """Conv-BN-ReLU layers, then a Conv that covers the whole remaining map.

    The last convolution's kernel equals the spatial size left by the others,
    so its output is ``(N, width, 1, 1)``: a fully connected layer of ``width``
    units written as a convolution (the GMVAE paper's "9x9 conv" on MNIST).

    Args:
        in_channels (int): C of the input images.
        image_size (tuple): ``(H, W)`` of the input images.
        layers (sequence): ``(channels, ksize, stride, pad)`` of each
            Conv-BN-ReLU layer.
        width (int): units of the final, whole-map layer (also BN + ReLU).
        initialW: initializer of the weights.

    Input ``(N, C, H, W)``; output ``(N, width)``. ``sizes`` lists the spatial
    size ``(h, w)`` after each layer (the decoder uses it to mirror exactly).
    """

    def __init__(self, in_channels, image_size, layers, width, initialW=None):
        super(ConvEncoder, self).__init__()
        layers = [tuple(int(v) for v in layer) for layer in layers]
        sizes = [tuple(int(s) for s in image_size)]
        for channels, ksize, stride, pad in layers:
            sizes.append(tuple(conv_output_size(s, ksize, stride, pad) for s in sizes[-1]))
        if min(sizes[-1]) < 1:
            need = minimum_size(layers)
            raise ValueError('images of %dx%d are too small for this convolutional network '
                             '(it needs at least %dx%d)' % (sizes[0] + (need, need)))
        self.layers, self.sizes, self.width = layers, sizes, int(width)
        channels = [int(in_channels)] + [layer[0] for layer in layers]
        with self.init_scope():
            self.convs = chainer.ChainList(*[
                Convolution2D(c_in, c_out, ksize, stride, pad, initialW=initialW)
                for c_in, (c_out, ksize, stride, pad) in zip(channels, layers)])
            self.norms = chainer.ChainList(*[BatchNormalizationReLU(c) for c in channels[1:]])
            self.whole = Convolution2D(channels[-1], width, sizes[-1], initialW=initialW)
            self.whole_norm = BatchNormalizationReLU(width)

    def forward(self, x):
        h = x
        for conv, norm in zip(self.convs, self.norms):
            h = norm(conv(h))
        h = self.whole_norm(self.whole(h))
        return F.reshape(h, (h.shape[0], self.width))


def minimum_size(layers):
    """The smallest square image the layers ``(channels, ksize, stride, pad)`` accept."""
    size = 1
    for _, ksize, stride, pad in reversed(layers):
        size = (size - 1) * stride + ksize - 2 * pad
    return size


class DeconvDecoder(chainer.Chain):
    """The mirror of a :class:`ConvEncoder`: Linear-BN-ReLU, then deconvolutions.

    ``Linear(in_size -> width)``, a deconvolution from ``1x1`` to the encoder's
    last map, then the encoder's layers in reverse, each Deconv-BN-ReLU except
    the last, which outputs ``out_channels`` maps of the input size with no
    activation (logits or means). Output sizes are given explicitly so that
    odd image sizes come back exactly.

    Args:
        in_size (int): size of the code.
        encoder (ConvEncoder): the encoder to mirror (its layers and sizes).
        out_channels (int): C of the output images.
        initialW: initializer of the weights.

    Input ``(N, in_size)``; output ``(N, out_channels, H, W)``.
    """

    def __init__(self, in_size, encoder, out_channels, initialW=None):
        super(DeconvDecoder, self).__init__()
        layers, sizes = encoder.layers, encoder.sizes
        channels = [layer[0] for layer in layers]
        outs = list(reversed(channels[:-1])) + [int(out_channels)]
        self.width, self.sizes = encoder.width, sizes
        with self.init_scope():
            self.linear = L.Linear(in_size, encoder.width, initialW=initialW)
            self.linear_norm = BatchNormalizationReLU(encoder.width)
            self.whole = L.Deconvolution2D(encoder.width, channels[-1], sizes[-1],
                                           initialW=initialW)
            self.whole_norm = BatchNormalizationReLU(channels[-1])
            self.deconvs = chainer.ChainList(*[
                L.Deconvolution2D(c_in, c_out, ksize, stride, pad, outsize=size,
                                  initialW=initialW)
                for c_in, c_out, (_, ksize, stride, pad), size in zip(
                    reversed(channels), outs, reversed(layers), reversed(sizes[:-1]))])
            self.norms = chainer.ChainList(*[BatchNormalizationReLU(c) for c in outs[:-1]])

    def forward(self, z):
        h = self.linear_norm(self.linear(z))
        h = F.reshape(h, (h.shape[0], self.width, 1, 1))
        h = self.whole_norm(self.whole(h))
        deconvs = list(self.deconvs)
        for i, deconv in enumerate(deconvs):
            h = deconv(h)
            if i < len(deconvs) - 1:
                h = self.norms[i](h)
        return h
