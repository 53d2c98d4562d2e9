"""What nnscratch knows about each dataset: classes, shapes, licence, source, files and digests.

A file's digests are the ones it may match to count as verified: the publisher's (SHA-256
where published, else MD5), the Debian package's recompressed copy, and for Fashion-MNIST
the SHA-256 of the uncompressed IDX file. A file that matches none is never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
DIGIT_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class RemoteFile:
    """One file of a dataset under its official name, with every digest it may match."""

    name: str
    digests: tuple  # ("sha256:...", "md5:..."), any one match verifies the file
    raw_digests: tuple = ()  # digests of the uncompressed file, for IDX files kept un-gzipped


@dataclass(frozen=True)
class DatasetInfo:
    """What nnscratch knows of a dataset: classes, sample shape, sizes, licence, source, and its
    files per split with their pinned digests and where else they may be (`data.info(name)`)."""

    name: str
    description: str
    classes: tuple
    sample_shape: tuple  # one sample: (28, 28) grey, (32, 32, 3) colour, (40,) a signal
    train_size: int
    test_size: int
    license: str
    source: str
    mirrors: tuple = ()
    files: dict = field(default_factory=dict)  # split -> (images file, labels file) or (archive,)
    system_dirs: tuple = ()
    debian_package: str | None = None
    generated: bool = False  # made on the fly (mnist1d), nothing to find or download


DATASETS = {
    "fashion-mnist": DatasetInfo(
        name="fashion-mnist",
        description="Zalando's 28x28 grey images of clothing, 10 classes",
        classes=FASHION_CLASSES,
        sample_shape=(28, 28),
        train_size=60_000,
        test_size=10_000,
        license="MIT",
        source="https://github.com/zalandoresearch/fashion-mnist",
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
        files={
            "train": (
                RemoteFile("train-images-idx3-ubyte.gz",
                           ("sha256:08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
                            "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                            "sha256:b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"),
                           ("sha256:c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",)),
                RemoteFile("train-labels-idx1-ubyte.gz",
                           ("sha256:b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
                            "md5:25c81989df183df01b3e8a0aad5dffbe",
                            "sha256:0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"),
                           ("sha256:bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",)),
            ),
            "test": (
                RemoteFile("t10k-images-idx3-ubyte.gz",
                           ("sha256:78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
                            "md5:bef4ecab320f06d8554ea6380940ec79",
                            "sha256:cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"),
                           ("sha256:5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",)),
                RemoteFile("t10k-labels-idx1-ubyte.gz",
                           ("sha256:42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
                            "md5:bb300cfdad3c16e7a12a480ee83cd310",
                            "sha256:8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"),
                           ("sha256:0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",)),
            ),
        },
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        debian_package="dataset-fashion-mnist",
    ),
    "mnist": DatasetInfo(
        name="mnist",
        description="LeCun, Cortes and Burges' 28x28 grey handwritten digits",
        classes=DIGIT_CLASSES,
        sample_shape=(28, 28),
        train_size=60_000,
        test_size=10_000,
        license="CC BY-SA 3.0",
        source="http://yann.lecun.com/exdb/mnist/",
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "http://yann.lecun.com/exdb/mnist/"),
        files={
            "train": (
                RemoteFile("train-images-idx3-ubyte.gz",
                           ("sha256:440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                            "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873")),
                RemoteFile("train-labels-idx1-ubyte.gz",
                           ("sha256:3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                            "md5:d53e105ee54ea40749a09fcbcd1e9432")),
            ),
            "test": (
                RemoteFile("t10k-images-idx3-ubyte.gz",
                           ("sha256:8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                            "md5:9fb629c4189551a2d022fa330f9573f3")),
                RemoteFile("t10k-labels-idx1-ubyte.gz",
                           ("sha256:f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                            "md5:ec29112dd5afa0611ce80d1b7f02629c")),
            ),
        },
        system_dirs=("/usr/share/datasets/mnist",),
    ),
    "cifar10": DatasetInfo(
        name="cifar10",
        description="Krizhevsky's 32x32 colour images, 10 classes (the binary distribution)",
        classes=CIFAR10_CLASSES,
        sample_shape=(32, 32, 3),
        train_size=50_000,
        test_size=10_000,
        license="no licence stated by the authors; cite Krizhevsky (2009)",
        source="https://www.cs.toronto.edu/~kriz/cifar.html",
        mirrors=("https://www.cs.toronto.edu/~kriz/",),
        files={
            split: (RemoteFile("cifar-10-binary.tar.gz",
                               ("sha256:c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                                "md5:c32a1d4ab5d03f1284b67883e8d87530")),)
            for split in ("train", "test")
        },
        system_dirs=("/usr/share/datasets/cifar10",),
    ),
    "mnist1d": DatasetInfo(
        name="mnist1d",
        description="Greydanus' MNIST-1D: 40-sample 1-D signals of the ten digits, generated offline",
        classes=DIGIT_CLASSES,
        sample_shape=(40,),
        train_size=4_000,
        test_size=1_000,
        license="Apache-2.0",
        source="https://github.com/greydanus/mnist1d (PyPI package mnist1d)",
        generated=True,
    ),
}

CIFAR10_MEMBERS = {
    "train": tuple(f"cifar-10-batches-bin/data_batch_{i}.bin" for i in range(1, 6)),
    "test": ("cifar-10-batches-bin/test_batch.bin",),
}
