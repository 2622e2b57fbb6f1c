"""The Open Inference Protocol's (KServe V2) inference request and response: pure, no HTTP.

An inference request body is a JSON object, optionally followed by binary tensor data (the
binary tensor data extension: the JSON's length is the Inference-Header-Content-Length header,
and each binary input says its byte count in `parameters.binary_data_size`). This module turns
such a body into a validated float32 batch, and labels and probabilities back into a body.

Spec: https://kserve.github.io/website/docs/concepts/architecture/data-plane/v2-protocol
"""

from __future__ import annotations

import json
import operator
from typing import TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np
import orjson

from ..errors import InvalidInputError
from ..floats import DOMAIN_LOW
from ..metadata import INPUT_NAME, LABEL_OUTPUT, PROBABILITY_OUTPUT
from ..validate import as_batch, first_invalid, problem_with
from .errors import RequestError

if TYPE_CHECKING:
    import numpy.typing as npt

INPUT_DATATYPE: Final = "FP32"
# Output name -> (protocol datatype, little-endian numpy dtype of its binary form).
OUTPUTS: Final = {LABEL_OUTPUT: ("INT64", "<i8"), PROBABILITY_OUTPUT: ("FP32", "<f4")}
ALL_OUTPUTS: Final = (LABEL_OUTPUT, PROBABILITY_OUTPUT)
_FP32_SIZE: Final = 4
_SURELY_FINITE: Final = 1e38  # below float32's largest, whatever rounding says
_LOW: Final = float(DOMAIN_LOW)
_NO_BINARY: Final = memoryview(b"")
_INPUT_SIGNATURE: Final = f"one input {INPUT_NAME!r} ({INPUT_DATATYPE}, shape [n] or [n, 1])"
_FIRST: Final = operator.itemgetter(0)
_OUTPUT_NAMES: Final = "'label' (INT64) and 'probability' (FP32)"


class RequestedOutput(NamedTuple):
    """One output the client asked for, and whether it wants it as binary data."""

    name: str
    binary: bool


class InferRequest(NamedTuple):
    """A parsed, validated inference request.

    Attributes:
        id: the request's `id`, echoed in the response; None when it had none.
        values: the °F values, float32, shape (n,), every one valid (finite, >= absolute zero).
        outputs: the outputs to return, in order (both, as JSON, when the request names none).
    """

    id: str | None
    values: npt.NDArray[np.float32]
    outputs: tuple[RequestedOutput, ...]


def parse_infer_request(body: bytes, header_length: int | None) -> InferRequest:
    """Parse and validate an inference request body.

    Args:
        body: the whole HTTP body.
        header_length: the Inference-Header-Content-Length header as an int (the JSON part's
            size in bytes), or None when the body is JSON alone.

    Raises:
        RequestError: malformed JSON, a wrong input name, datatype or shape, a shape that does
            not match the data, or binary data whose size does not match (status 400).
        InvalidInputError: a value is NaN, infinite or below absolute zero; the message names
            the value and its index, in the words of `Classifier.predict`.
    """
    if header_length is None:
        header, binary = body, _NO_BINARY
    else:
        if not 0 < header_length <= len(body):
            raise RequestError(
                f"Inference-Header-Content-Length {header_length} does not fit the body "
                f"({len(body)} bytes)"
            )
        view = memoryview(body)
        header, binary = bytes(view[:header_length]), view[header_length:]
    request = _load_json(header)
    if not isinstance(request, dict):
        raise RequestError(f"the request must be a JSON object, got {_json_type(request)}")
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise RequestError(f"'id' must be a string, got {_json_type(request_id)}")
    parameters = _parameters(request, "the request")
    values, used = _input_values(request.get("inputs"), header, binary)
    if used != len(binary):
        raise RequestError(
            f"the body has {len(binary) - used} bytes of binary data that no input claims "
            "(binary_data_size must add up to the body after the JSON)"
        )
    binary_default = _flag(parameters, "binary_data_output", "the request")
    outputs = _requested_outputs(request.get("outputs"), binary_default)
    return InferRequest(request_id, values, outputs)


def _load_json(text: bytes) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    # orjson refuses NaN and Infinity; Python's json reads them (numpy clients write them), and
    # then the value check names them as the runtime does. Anything else is malformed.
    try:
        return json.loads(text)
    except UnicodeDecodeError:
        raise RequestError("the request JSON is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise RequestError(f"malformed JSON in the request: {exc}") from None
    except RecursionError:
        raise RequestError("malformed JSON in the request: nested too deeply") from None


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number")


def _parameters(obj: dict[str, Any], where: str) -> dict[str, Any]:
    parameters = obj.get("parameters", {})
    if not isinstance(parameters, dict):
        raise RequestError(f"'parameters' of {where} must be an object")
    return parameters


def _flag(parameters: dict[str, Any], name: str, where: str) -> bool:
    value = parameters.get(name, False)
    if not isinstance(value, bool):
        raise RequestError(f"parameter {name!r} of {where} must be true or false")
    return value


def _input_values(
    inputs: Any, header: bytes, binary: memoryview
) -> tuple[npt.NDArray[np.float32], int]:
    """The one input's values and how many binary bytes it used."""
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        raise RequestError(f"'inputs' must be a list of {_INPUT_SIGNATURE}")
    tensor: dict[str, Any] = inputs[0]
    name = tensor.get("name")
    if name != INPUT_NAME:
        raise RequestError(f"unknown input {name!r}; the model takes {_INPUT_SIGNATURE}")
    datatype = tensor.get("datatype")
    if datatype != INPUT_DATATYPE:
        raise RequestError(
            f"input {INPUT_NAME!r} has datatype {datatype!r}; the model takes {INPUT_DATATYPE}"
        )
    count, nested = _shape(tensor.get("shape"))
    parameters = _parameters(tensor, f"input {INPUT_NAME!r}")
    size = parameters.get("binary_data_size")
    if size is not None:
        if "data" in tensor:
            raise RequestError(f"input {INPUT_NAME!r} has both 'data' and binary_data_size")
        return _binary_values(size, count, binary), size
    if "data" not in tensor:
        raise RequestError(f"input {INPUT_NAME!r} has no 'data' and no binary_data_size")
    booleans = b"true" in header or b"false" in header
    return _json_values(tensor["data"], count, nested, booleans), 0


def _shape(shape: Any) -> tuple[int, bool]:
    """(element count, whether the shape is [n, 1]); checks it without allocating anything."""
    if not (
        isinstance(shape, list)
        and 1 <= len(shape) <= 2
        and type(shape[0]) is int
        and shape[0] >= 0
        and (len(shape) == 1 or (type(shape[1]) is int and shape[1] == 1))
    ):
        raise RequestError(
            f"input {INPUT_NAME!r} has shape {shape!r}; the model takes shape [n] or [n, 1]"
        )
    return shape[0], len(shape) == 2


def _binary_values(size: Any, count: int, binary: memoryview) -> npt.NDArray[np.float32]:
    if type(size) is not int or size < 0:
        raise RequestError(f"binary_data_size of input {INPUT_NAME!r} must be a whole number")
    if size != count * _FP32_SIZE:
        raise RequestError(
            f"binary_data_size {size} of input {INPUT_NAME!r} does not match its shape: "
            f"{count} FP32 values are {count * _FP32_SIZE} bytes"
        )
    if size > len(binary):
        raise RequestError(
            f"binary_data_size {size} of input {INPUT_NAME!r} is more than the "
            f"{len(binary)} bytes of binary data in the body"
        )
    return _check_values(np.frombuffer(binary[:size], dtype="<f4"))


def _json_values(data: Any, count: int, nested: bool, booleans: bool) -> npt.NDArray[np.float32]:
    """The values of a JSON `data` array; `booleans`: the JSON text has a true or false."""
    if not isinstance(data, list):
        raise RequestError(f"'data' of input {INPUT_NAME!r} must be an array")
    if count == 1 and len(data) == 1:
        # One value, the commonest request ([33.0], or [[33.0]] for shape [1, 1]): checked as
        # Classifier.predict checks a scalar, with no array round trip.
        value = data[0]
        if nested and type(value) is list and len(value) == 1:
            value = value[0]
        if type(value) is float:
            return _check_scalar(value)
    if data and isinstance(data[0], list):
        data = _flatten(data, nested)
    _check_count(len(data), count)
    if not booleans:
        # numpy reads a list of floats as float64 in one C loop; text, null or big integers
        # give another dtype. Booleans would pass as 1.0 and 0.0, so this path is only taken
        # when the JSON has no `true` or `false` anywhere.
        try:
            array = np.array(data)
        except ValueError:  # ragged: a list among the numbers; as_batch names it
            array = np.empty(0, dtype=np.object_)
        if array.dtype == np.float64 and array.ndim == 1:
            return _check_values(array)
    # Integers, text, booleans, null: the runtime's own conversion and words.
    batch, _ = as_batch(data)
    return batch


def _check_count(length: int, count: int) -> None:
    if length != count:
        raise RequestError(f"input {INPUT_NAME!r} has {length} values but its shape says {count}")


def _check_scalar(value: float) -> npt.NDArray[np.float32]:
    """One value as a float32 batch; as `_check_values`, one comparison decides the common case."""
    if _LOW <= value <= _SURELY_FINITE:  # rounding to float32 keeps it at or above DOMAIN_LOW
        return np.array([value], dtype=np.float32)
    reason = problem_with(value)
    if reason is not None:
        raise InvalidInputError(f"value {value!r} at index 0 {reason}", index=0, value=value)
    return np.array([value], dtype=np.float32)


def _flatten(data: list[Any], nested: bool) -> list[Any]:
    """Rows of one value ([[33.0], [32.0]]) as a flat list, when the shape is [n, 1]."""
    try:
        # Both passes run in C (map): every row's first item, and the rows' lengths adding up
        # to the row count, which with no row empty means one item in each.
        if nested:
            flat = list(map(_FIRST, data))
            if sum(map(len, data)) == len(data):
                return flat
    except (TypeError, KeyError, IndexError):  # a number, an object or [] among the rows
        pass
    raise RequestError(
        f"'data' of input {INPUT_NAME!r} must be flat, or nested as its shape [n, 1] says"
    )


def _check_values(values: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float32]:
    """`values` as float32, as Classifier converts them; raises for the first bad one."""
    with np.errstate(over="ignore", invalid="ignore"):
        batch = values.astype(np.float32, copy=False)
    # Two reductions decide the common case: every value in [absolute zero, 1e38] (NaN fails
    # both comparisons). Anything else goes to the runtime's exact check and its words.
    if not len(batch) or (batch.min() >= DOMAIN_LOW and batch.max() <= _SURELY_FINITE):
        return batch
    bad = first_invalid(values)
    if bad is None:
        return batch
    value = values[bad].item()
    raise InvalidInputError(
        f"value {value!r} at index {bad} {problem_with(value)}", index=bad, value=value
    )


def _requested_outputs(outputs: Any, binary_default: bool) -> tuple[RequestedOutput, ...]:
    if outputs is None or outputs == []:
        return _ALL_BINARY if binary_default else _ALL_JSON
    if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
        raise RequestError("'outputs' must be a list of objects with a 'name'")
    wanted: list[RequestedOutput] = []
    for output in outputs:
        name = output.get("name")
        if name not in OUTPUTS:
            raise RequestError(f"unknown output {name!r}; the model has outputs {_OUTPUT_NAMES}")
        if any(w.name == name for w in wanted):
            raise RequestError(f"output {name!r} is asked for twice")
        parameters = _parameters(output, f"output {name!r}")
        if "classification" in parameters or "class_count" in parameters:
            raise RequestError("the classification extension is not supported; ask for 'label'")
        binary = binary_default
        if "binary_data" in parameters:
            binary = _flag(parameters, "binary_data", f"output {name!r}")
        wanted.append(RequestedOutput(name, binary))
    return tuple(wanted)


_ALL_JSON = tuple(RequestedOutput(name, False) for name in ALL_OUTPUTS)
_ALL_BINARY = tuple(RequestedOutput(name, True) for name in ALL_OUTPUTS)


def encode_infer_response(
    request: InferRequest,
    results: dict[str, npt.NDArray[Any]],
    model_name: str,
    model_version: str,
) -> tuple[bytes, int | None]:
    """The response body, and the JSON part's length when binary outputs follow it (else None).

    Args:
        request: the parsed request (its id and requested outputs).
        results: output name -> 1-D array (label int64, probability float32), each of length n.
        model_name, model_version: echoed in the response.
    """
    out: list[dict[str, Any]] = []
    binary_parts: list[bytes] = []
    for wanted in request.outputs:
        datatype, dtype = OUTPUTS[wanted.name]
        array = results[wanted.name]
        tensor: dict[str, Any] = {
            "name": wanted.name,
            "datatype": datatype,
            "shape": [len(array)],
        }
        if wanted.binary:
            raw = array.astype(dtype, copy=False).tobytes()
            tensor["parameters"] = {"binary_data_size": len(raw)}
            binary_parts.append(raw)
        else:
            # orjson writes a float32 as its shortest repr, which reads back as the same float32.
            tensor["data"] = array
        out.append(tensor)
    response: dict[str, Any] = {"model_name": model_name, "model_version": model_version}
    if request.id is not None:
        response["id"] = request.id
    response["outputs"] = out
    header = orjson.dumps(response, option=orjson.OPT_SERIALIZE_NUMPY)
    if not binary_parts:
        return header, None
    return b"".join([header, *binary_parts]), len(header)


def error_body(message: str) -> bytes:
    """`{"error": message}` as the protocol's error response."""
    return orjson.dumps({"error": message})
