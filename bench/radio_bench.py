"""Radio figures: normalization accuracy, time and peak memory of a 1,000-word bulletin.

Run: .venv/bin/python bench/radio_bench.py   (targets: build <= 10 s, peak memory <= 300 MB)
"""

from __future__ import annotations

import json
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
from broadcast.radio.settings import RadioSettings
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


def main() -> int:
    good, total = accuracy()
    print(f"radio normalize: {good}/{total} cases = {100 * good / total:.1f}% "
          "(tests/radio/cases.yaml)")
    out = ROOT / "bench" / "out" / "radio"
    out.mkdir(parents=True, exist_ok=True)
    words = NOTICE.split()
    text = " ".join((words * (1000 // len(words) + 1))[:1000])
    src = out / "notice-1000-words.txt"
    src.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(ROOT), str(src), str(out)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return 1
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    wall = time.perf_counter() - started
    print(f"radio build, 1,000 words offline (espeak-ng): {r['seconds']:.1f} s "
          f"(target <= 10 s; {wall:.1f} s with interpreter start), "
          f"audio {r['duration_s'] / 60:.1f} min, {r['lufs']:.2f} LUFS, {r['dbtp']:.2f} dBTP")
    print(f"radio build peak memory (maxrss): {r['maxrss_mb']:.0f} MB (target <= 300 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
