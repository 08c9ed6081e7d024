"""Recognition models run in this process on onnxruntime.

    manifest   the model files of `models/` (or an installed pack) and their checks
    runtime    sessions: loaded on first use, dropped after an idle time
    images     decoding a thumbnail into the arrays the models take
    faces      YuNet detection, alignment, SFace embeddings
    ocr        PP-OCR text detection and recognition
    tagger     MobileNetV2 ImageNet labels (and the animal ones as species)
    text       MiniLM sentence embeddings
    semantic   the image-text embedding interface and its two implementations
    packs      CLIP-style model packs an administrator installs
    registry   the models of this process, each analyser built on first use
"""
