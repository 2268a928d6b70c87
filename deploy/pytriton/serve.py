"""Serves ONNX image classifiers over the Open Inference Protocol (KServe v2) with NVIDIA Triton, through PyTriton.

Each model is an ONNX file run by onnxruntime's Python session, with all its graph outputs (`image-classifier
model export-triton` writes a model whose embedding is the second output). Triton's HTTP endpoint, dynamic batching
and metadata are the real server's; only the model runs in Python instead of Triton's ONNX Runtime backend.

    python serve.py --model resnet50=model_repository/resnet50/1/model.onnx --http-port 8000
"""

import argparse
import logging
import signal

import numpy as np
import onnxruntime as ort
from pytriton.decorators import batch
from pytriton.model_config import DynamicBatcher, ModelConfig, Tensor
from pytriton.triton import Triton, TritonConfig, TritonSecurityConfig


def bind_onnx(triton, name, path, threads, max_batch):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    # Idle intra-op threads sleep instead of spinning (as the local engine runs), leaving the cores to the rest.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    source = session.get_inputs()[0]
    names = [o.name for o in session.get_outputs()]
    # Output widths from one run (a patched graph output carries no shape).
    probe = session.run(names, {source.name: np.zeros([1] + list(source.shape[1:]), np.float32)})

    @batch
    def infer(**inputs):
        return dict(zip(names, session.run(names, {source.name: inputs[source.name]})))

    triton.bind(
        model_name=name,
        infer_func=infer,
        inputs=[Tensor(name=source.name, dtype=np.float32, shape=tuple(source.shape[1:]))],
        outputs=[Tensor(name=n, dtype=np.float32, shape=tuple(p.shape[1:])) for n, p in zip(names, probe)],
        config=ModelConfig(max_batch_size=max_batch, batcher=DynamicBatcher(max_queue_delay_microseconds=2000)),
        strict=True,
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, metavar="NAME=PATH", help="a model to serve (repeatable)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--metrics-port", type=int, default=8002)
    p.add_argument("--threads", type=int, default=0, help="onnxruntime intra-op threads (0: all cores)")
    p.add_argument("--max-batch", type=int, default=32)
    p.add_argument("--access-token", help="require this triton-access-token header for inference and metadata")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = TritonConfig(
        http_address=args.host, http_port=args.http_port, grpc_port=args.grpc_port,
        metrics_port=args.metrics_port, metrics_address=args.host, grpc_address=args.host,
    )
    security = TritonSecurityConfig(access_token=args.access_token, restricted_endpoints=["inference", "metadata"]) if args.access_token else None
    with Triton(config=config, security_config=security) as triton:
        for spec in args.model:
            name, _, path = spec.partition("=")
            bind_onnx(triton, name, path, args.threads, args.max_batch)
        signal.signal(signal.SIGTERM, lambda *_: triton.stop())
        print(f"serving {', '.join(m.partition('=')[0] for m in args.model)} on http://{args.host}:{args.http_port}", flush=True)
        triton.serve()


if __name__ == "__main__":
    main()
