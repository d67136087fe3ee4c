"""Radio figures: normalization accuracy, time and peak memory of a 1,000-word bulletin, and
the encoding time of a chat voice message.

Run: .venv/bin/python bench/radio_bench.py [--runs N]
Targets: build <= 10 s, peak memory <= 300 MB, voice message encoding well under 1 s for 30 s.

Each build runs in its own interpreter (peak memory is that process's maxrss). The machine may
be shared, so every figure is measured several times: best and median are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOTICE = (
    "Ủy ban nhân dân phường Trần Lãm thông báo: từ 7h30 ngày 15/12/2025, Trạm y tế phường tổ "
    "chức tiêm chủng mở rộng cho trẻ dưới 5 tuổi. Phụ huynh mang theo sổ tiêm chủng, thẻ BHYT "
    "và CCCD. Mọi thắc mắc liên hệ số điện thoại 0227.3831.234 hoặc đường dây nóng 1900 0368. "
)

_CHILD = r"""
import json, resource, sys, time
from datetime import datetime
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from broadcast.radio.bulletin import build_bulletin
from broadcast.radio.normalize import Normalizer
from core.config import RadioSettings
from broadcast.radio.tts import EspeakEngine
text = Path(sys.argv[2]).read_text(encoding="utf-8")
started = time.perf_counter()
b = build_bulletin(text, title="Bench", area_code="12454", area_name="Phường Trần Lãm",
                   priority="normal", when=datetime(2025, 12, 1, 6, 0),
                   settings=RadioSettings(), lexicon=Normalizer.from_file(),
                   out_dir=sys.argv[3], engine=EspeakEngine())
elapsed = time.perf_counter() - started
print(json.dumps({"seconds": elapsed, "duration_s": b.duration_s, "lufs": b.loudness_lufs,
                  "dbtp": b.true_peak_dbtp,
                  "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def accuracy() -> tuple[int, int]:
    from broadcast.radio.cases import load_cases, matches
    from broadcast.radio.normalize import Normalizer

    normalizer = Normalizer.from_file()
    cases = load_cases(ROOT / "tests" / "radio" / "cases.yaml")
    good = sum(matches(normalizer.spoken(c.text), c) for c in cases)
    return good, len(cases)


def build_once(src: Path, out: Path) -> dict[str, float] | None:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), str(src), str(out)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    r: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    r["wall"] = time.perf_counter() - started
    return r


def voice_timing(runs: int) -> tuple[float, list[float], list[float], int]:
    """Seconds of speech, voice_message times (speech synthesized beforehand) and encoding
    times alone, and the file size."""
    import numpy as np

    from broadcast.radio.audio import resample
    from broadcast.radio.normalize import Normalizer
    from broadcast.radio.opus import encode_ogg_opus
    from broadcast.radio.tts import EspeakEngine, Speech
    from broadcast.radio.voice import VOICE_BITRATE, VOICE_RATE, voice_message

    text = ("Để làm căn cước công dân, bà con mang theo sổ hộ khẩu và đến công an phường "
            "từ thứ hai đến thứ sáu. ") * 4  # about 30 s
    normalizer = Normalizer.from_file()
    speech = EspeakEngine().synthesize(normalizer.spoken(text))

    class Spoken:  # the speech is ready: time what voice_message adds to the engine
        name = "espeak"
        cache_key = "bench"

        def synthesize(self, text: str) -> Speech:
            return speech

    x = (0.3 * resample(speech.samples, speech.rate, VOICE_RATE)).astype(np.float32)
    whole, encode, size = [], [], 0
    for _ in range(runs):
        started = time.perf_counter()
        size = len(voice_message(text, Spoken(), normalizer))
        whole.append(time.perf_counter() - started)
        started = time.perf_counter()
        encode_ogg_opus(x, VOICE_RATE, VOICE_BITRATE)
        encode.append(time.perf_counter() - started)
    return speech.duration_s, whole, encode, size


def _spread(values: list[float], unit: str, digits: int = 1) -> str:
    return (f"best {min(values):.{digits}f} {unit}, median {statistics.median(values):.{digits}f}"
            f" {unit} ({len(values)} runs)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="builds to measure (default 3)")
    args = parser.parse_args()
    good, total = accuracy()
    print(f"radio normalize: {good}/{total} cases = {100 * good / total:.1f}% "
          "(tests/radio/cases.yaml)")
    out = ROOT / "bench" / "out" / "radio"
    out.mkdir(parents=True, exist_ok=True)
    words = NOTICE.split()
    text = " ".join((words * (1000 // len(words) + 1))[:1000])
    src = out / "notice-1000-words.txt"
    src.write_text(text, encoding="utf-8")
    results = []
    for _ in range(max(1, args.runs)):
        r = build_once(src, out)
        if r is None:
            return 1
        results.append(r)
    r = results[0]
    print(f"radio build, 1,000 words offline (espeak-ng): "
          f"{_spread([x['seconds'] for x in results], 's')} (target <= 10 s; "
          f"{_spread([x['wall'] for x in results], 's')} with interpreter start), "
          f"audio {r['duration_s'] / 60:.1f} min, {r['lufs']:.2f} LUFS, {r['dbtp']:.2f} dBTP")
    memory = _spread([x["maxrss_mb"] for x in results], "MB", 0)
    print(f"radio build peak memory (maxrss): {memory} (target <= 300 MB)")
    from broadcast.radio.opus import libopus_version

    seconds, whole, encode, size = voice_timing(5)
    print(f"voice message, {seconds:.0f} s of speech: encoding {_spread(encode, 's', 3)}; "
          f"voice_message without TTS {_spread(whole, 's', 3)}; {size / 1000:.0f} kB, "
          f"{libopus_version() or 'soundfile (no libopus)'} (target: well under 1 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
