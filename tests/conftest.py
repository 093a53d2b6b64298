import chainclust  # NOQA: installs the compatibility shims before chainer
