#!/usr/bin/env python3
"""The PyTorch reference pipeline that scripts/bench-pytorch.mjs measures beside the CLI.

    /usr/bin/python3 scripts/pytorch/pipeline.py <file|folder>... [--batch 8] [--threads 2]

Seed-0 ResNet50 built as ../shared/README.md documents (torch.manual_seed(0), torchvision.models.resnet50(), random
init: the same graph and cost as ../shared/models/resnet50-torchvision-seed0.onnx), Pillow decode (EXIF orientation,
convert('RGB')), torchvision's Resize(256) / CenterCrop(224) / ToTensor / Normalize, batches of 8 under
inference_mode, torch.set_num_threads(2). One JSON line per image on stdout (top-5 indices and probabilities), as the
CLI's JSON Lines, flushed as each batch finishes.
"""
import argparse
import json
import os
import sys

EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def inputs(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _dirs, names in os.walk(p):
                files += [os.path.join(root, n) for n in names if os.path.splitext(n)[1].lower() in EXTENSIONS]
        else:
            files.append(p)
    return sorted(files)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()

    import torch
    import torchvision
    from PIL import Image, ImageOps
    from torchvision import transforms as T

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet50()
    model.eval()
    transform = T.Compose(
        [T.Resize(256), T.CenterCrop(224), T.ToTensor(), T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])]
    )
    files = inputs(a.paths)
    with torch.inference_mode():
        for i in range(0, len(files), a.batch):
            chunk = files[i : i + a.batch]
            x = torch.stack([transform(ImageOps.exif_transpose(Image.open(f)).convert("RGB")) for f in chunk])
            top = model(x).softmax(1).topk(5, 1)
            for f, probs, idx in zip(chunk, top.values.tolist(), top.indices.tolist()):
                preds = [{"index": j, "probability": round(p, 6)} for j, p in zip(idx, probs)]
                sys.stdout.write(json.dumps({"file": f, "predictions": preds}) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
