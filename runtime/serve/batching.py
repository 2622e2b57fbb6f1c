"""Run the small requests that arrive together as one onnxruntime call.

Under load many requests are parsed in the same turn of the event loop. Each onnxruntime call
has a fixed cost (~8 µs hot, several times that between network reads) far above the model's
per-value cost (~1 ns), so the batcher joins the values of every request submitted in one turn,
runs them once, and hands each request its own slice. Nothing waits for more requests to arrive:
a lone request runs on the next turn, so an idle server answers as fast as without batching.

The model is elementwise: a value's label and probability do not depend on the other values in
its batch (tests compare every request's answer with `Classifier` on that request's values).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import numpy as np

from ..metadata import LABEL_OUTPUT, PROBABILITY_OUTPUT

if TYPE_CHECKING:
    import numpy.typing as npt

    from .model import ServedModel

Results = dict[str, "npt.NDArray[Any]"]
_BOTH = (LABEL_OUTPUT, PROBABILITY_OUTPUT)


class Batcher:
    """Joins the requests of one event-loop turn into one model run.

    Args:
        model: the model to run.
        max_values: a batch is run as soon as it holds this many values.
    """

    def __init__(self, model: ServedModel, max_values: int = 65_536) -> None:
        self.model = model
        self.max_values = max_values
        self._pending: list[tuple[npt.NDArray[np.float32], asyncio.Future[Results]]] = []
        self._size = 0

    def submit(self, values: npt.NDArray[np.float32]) -> asyncio.Future[Results]:
        """A future for the label and probability arrays of `values` (float32, shape (n,))."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Results] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((values, future))
        self._size += len(values)
        if self._size >= self.max_values:
            self._flush()
        return future

    def _flush(self) -> None:
        batch, self._pending, self._size = self._pending, [], 0
        if not batch:
            return
        try:
            if len(batch) == 1:
                values = batch[0][0]
            else:
                values = np.concatenate([v for v, _ in batch])
            results = self.model.infer(values, _BOTH)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        labels, probabilities = results[LABEL_OUTPUT], results[PROBABILITY_OUTPUT]
        start = 0
        for part, future in batch:
            end = start + len(part)
            if not future.done():  # a client that went away leaves a cancelled future
                future.set_result(
                    {LABEL_OUTPUT: labels[start:end], PROBABILITY_OUTPUT: probabilities[start:end]}
                )
            start = end
