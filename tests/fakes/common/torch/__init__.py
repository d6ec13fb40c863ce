"""A tiny, strict stand-in for `torch`: dtypes, grad-mode context managers and shape-only tensors.

Only what typical inference scripts touch exists; any other attribute raises AttributeError.
Tensors carry a shape and a fill value, never real data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__version__ = "2.5.1+fake"


class dtype:  # noqa: N801 - mirrors torch.dtype
    """A named dtype whose str() is like torch's, e.g. "torch.float32"."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    __str__ = __repr__


float32 = dtype("float32")
float16 = dtype("float16")
bfloat16 = dtype("bfloat16")
int64 = dtype("int64")
int32 = dtype("int32")
bool = dtype("bool")  # noqa: A001 - torch.bool
float = float32  # noqa: A001 - torch.float
half = float16
long = int64


class _GradMode:
    """Context manager and decorator, like torch.inference_mode()/no_grad()."""

    def __init__(self, mode: Any = True) -> None:
        self.mode = mode

    def __enter__(self) -> _GradMode:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        return func


def inference_mode(mode: Any = True) -> _GradMode:
    return _GradMode(mode)


def no_grad() -> _GradMode:
    return _GradMode()


class Tensor:
    """Shape-only tensor: supports shape, indexing, tolist() and a few no-op conversions."""

    def __init__(self, shape: Sequence[int], fill: Any = 0, dtype: dtype = int64) -> None:
        self.shape = tuple(int(n) for n in shape)
        self.fill = fill
        self.dtype = dtype

    def __repr__(self) -> str:
        return f"FakeTensor(shape={list(self.shape)})"

    def __len__(self) -> int:
        return self.shape[0]

    def __iter__(self):  # noqa: ANN204
        return (self[i] for i in range(len(self)))

    def __getitem__(self, index: Any) -> Any:
        parts = index if isinstance(index, tuple) else (index,)
        shape = list(self.shape)
        out: list[int] = []
        for axis, part in enumerate(parts):
            if isinstance(part, slice):
                out.append(len(range(*part.indices(shape[axis]))))
            elif part is Ellipsis:
                return Tensor(shape, self.fill, self.dtype)
        out.extend(shape[len(parts):])
        if not out:
            return self.fill
        return Tensor(out, self.fill, self.dtype)

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return len(self.shape)

    def numel(self) -> int:
        total = 1
        for n in self.shape:
            total *= n
        return total

    def tolist(self) -> Any:
        value: Any = self.fill
        for n in reversed(self.shape):
            value = [value if not isinstance(value, list) else list(value) for _ in range(n)]
        return value

    def item(self) -> Any:
        return self.fill

    def _same(self, *args: Any, **kwargs: Any) -> Tensor:
        return self

    to = cpu = long = int = contiguous = detach = clone = _same


def _shape_of(data: Any) -> list[int]:
    if isinstance(data, Tensor):
        return list(data.shape)
    if isinstance(data, (list, tuple)):
        return [len(data), *(_shape_of(data[0]) if data else [])]
    return []


def _first_scalar(data: Any) -> Any:
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data.fill if isinstance(data, Tensor) else data


def tensor(data: Any, dtype: dtype | None = None, **_: Any) -> Tensor:
    fill = _first_scalar(data)
    return Tensor(_shape_of(data), 0 if isinstance(fill, list) else fill, dtype or int64)


as_tensor = tensor
LongTensor = tensor


def _dims(size: tuple[Any, ...]) -> list[int]:
    return list(size[0]) if len(size) == 1 and isinstance(size[0], (list, tuple)) else list(size)


def ones(*size: Any, dtype: dtype | None = None, **_: Any) -> Tensor:
    return Tensor(_dims(size), 1, dtype or float32)


def zeros(*size: Any, dtype: dtype | None = None, **_: Any) -> Tensor:
    return Tensor(_dims(size), 0, dtype or float32)


def arange(end: int, **_: Any) -> Tensor:
    return Tensor([end], 0, int64)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    shape = list(tensors[0].shape)
    shape[dim] = sum(t.shape[dim] for t in tensors)
    return Tensor(shape, tensors[0].fill, tensors[0].dtype)


def manual_seed(seed: int) -> None:
    return None


FakeTensor = Tensor
