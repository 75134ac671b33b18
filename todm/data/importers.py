"""Import real corpora into todm manifests: the LibriSpeech layout and generic JSONL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from todm.data.audio import read_audio_info
from todm.data.manifest import Utterance, write_manifest
from todm.data.text import normalize_text
from todm.errors import DataError

# Field names accepted for each manifest field, in order of preference (todm, lhotse, NeMo, ...).
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "utt_id", "recording_id", "key"),
    "audio": ("audio", "audio_filepath", "audio_path", "path", "source", "wav"),
    "text": ("text", "transcript", "sentence", "normalized_text"),
    "duration": ("duration",),
    "speaker": ("speaker", "speaker_id", "spk"),
}


def import_librispeech(root: Path, out: Path, progress: bool = False) -> list[Utterance]:
    """Manifest for a LibriSpeech-layout tree: ``SPK/CHAPTER/SPK-CHAPTER.trans.txt`` + flac.

    Durations and sample rates come from the audio headers; texts are normalized.

    Args:
        progress: show a progress bar (per chapter) on stderr.
    """
    from tqdm import tqdm

    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: directory not found")
    trans_files = sorted(root.rglob("*.trans.txt"))
    if not trans_files:
        raise DataError(f"{root}: no *.trans.txt files; is this a LibriSpeech-layout directory?")
    utts: list[Utterance] = []
    for trans in tqdm(trans_files, desc="import", unit="chapter", disable=not progress, file=sys.stderr):
        for lineno, line in enumerate(trans.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            utt_id, _, text = line.partition(" ")
            if not text.strip():
                raise DataError(f"{trans}:{lineno}: expected '<utterance-id> <transcript>'")
            audio = None
            for ext in (".flac", ".wav"):
                if (trans.parent / f"{utt_id}{ext}").is_file():
                    audio = trans.parent / f"{utt_id}{ext}"
                    break
            if audio is None:
                raise DataError(f"{trans}:{lineno}: audio for {utt_id} not found in {trans.parent}")
            info = read_audio_info(audio)
            utts.append(
                Utterance(
                    id=utt_id,
                    audio=str(audio.absolute()),
                    text=normalize_text(text),
                    duration=round(info.frames / info.samplerate, 4),
                    speaker=utt_id.split("-")[0],
                    sampling_rate=info.samplerate,
                    custom={"channels": info.channels} if info.channels != 1 else {},
                )
            )
    write_manifest(out, utts)
    return utts


def _pick(obj: dict[str, Any], name: str) -> Any:
    for key in FIELD_ALIASES[name]:
        if key in obj:
            return obj[key]
    return None


def import_jsonl(path: Path, out: Path) -> list[Utterance]:
    """Manifest from a generic JSONL file (todm, lhotse-style or NeMo-style field names).

    A lhotse cut or recording with ``sources``/``supervisions`` lists is read too.
    Missing durations are read from the audio headers.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    utts: list[Utterance] = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise DataError(f"{where}: not valid UTF-8 at byte {e.start}") from None
            except json.JSONDecodeError as e:
                raise DataError(f"{where}: not valid JSON ({e.msg})") from None
            if not isinstance(obj, dict):
                raise DataError(f"{where}: expected a JSON object")
            if "recording" in obj and isinstance(obj["recording"], dict):  # lhotse cut
                obj = {**obj["recording"], **{k: v for k, v in obj.items() if k != "recording"}}
            if isinstance(obj.get("sources"), list) and obj["sources"]:
                obj.setdefault("audio", obj["sources"][0].get("source"))
            if isinstance(obj.get("supervisions"), list) and obj["supervisions"]:
                sup = obj["supervisions"][0]
                obj.setdefault("text", sup.get("text"))
                obj.setdefault("speaker", sup.get("speaker"))
            for key in ("offset", "start"):
                value = obj.get(key)
                if isinstance(value, (int, float)) and value != 0:
                    raise DataError(
                        f"{where}: '{key}': {value} marks a segment of a longer recording; "
                        "todm manifests hold one file per utterance (cut the segments to "
                        "their own files first)"
                    )
            fields = {name: _pick(obj, name) for name in FIELD_ALIASES}
            missing = [n for n in ("audio", "text") if fields[n] is None]
            if missing:
                raise DataError(
                    f"{where}: no {' or '.join(missing)} field; accepted names: "
                    + "; ".join(f"{n}: {', '.join(FIELD_ALIASES[n])}" for n in missing)
                )
            audio = Path(str(fields["audio"]))
            if not audio.is_absolute():
                audio = path.parent / audio
            info = read_audio_info(audio)
            duration = fields["duration"]
            if duration is None:
                duration = info.frames / info.samplerate
            utts.append(
                Utterance(
                    id=str(fields["id"] or audio.stem),
                    audio=str(audio.absolute()),
                    text=normalize_text(str(fields["text"])),
                    duration=round(float(duration), 4),
                    speaker=str(fields["speaker"] or "unknown"),
                    sampling_rate=info.samplerate,
                )
            )
    if not utts:
        print(f"todm data import: {path} holds no utterances", file=sys.stderr)
    write_manifest(out, utts)
    return utts
