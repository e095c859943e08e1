"""vhls: neural networks and Ising annealers to verified FPGA accelerators.

Front doors: `load(path)` for model files, the layer DSL (`Sequential`, `Dense`, ...), kernel combinators
(`vhls.kernel`), and `from_torch(module, example_input)`. Every one gives a `Model` whose `ir` is the IR
program and whose `run(x)` is the bit-exact golden model.
"""

from vhls.ir.errors import VhlsError
from vhls.ir.parser import parse
from vhls.loader import load
from vhls.model import LayerInfo, Model

__version__ = "0.1.0"
__all__ = ["LayerInfo", "Model", "VhlsError", "__version__", "load", "parse"]

try:  # layer DSL and torch import (available once their modules exist)
    from vhls.layers import (
        AvgPool2d,
        BatchNorm,
        Conv2d,
        Dense,
        Flatten,
        Input,
        MaxPool2d,
        ReLU,
        Sequential,
    )
    from vhls.precision import Precision, Quant, quant

    __all__ += ["AvgPool2d", "BatchNorm", "Conv2d", "Dense", "Flatten", "Input", "MaxPool2d", "Precision", "Quant",
                "ReLU", "Sequential", "quant"]
except ImportError:  # pragma: no cover - during bring-up only
    pass


def from_torch(*args, **kwargs) -> Model:
    """Import a torch.nn module (see vhls.torch_import.from_torch); torch is imported only when used."""
    from vhls.torch_import import from_torch as _from_torch

    return _from_torch(*args, **kwargs)

