"""Peak memory of the audio pass against the movie's length, for a song longer than the movie.

Why: the pass once sent every song through `aloop`, which holds every sample it may
loop (the movie's length, ~0.4 MB a second of 48 kHz stereo float), so its ffmpeg grew
with the movie: 127 MB for 10 s, 234 MB for 300 s, 387 MB for a 12-minute movie with a
30-minute song. A song that lasts the movie is played once. The suite checks that the
pass of such a song has no `aloop` (tests/integration/test_audio.py); this measures what
that buys, in memory, as the movie grows.

Each length runs `render_audio` in its own child process (a sine song 5 s longer than
the movie, normalised as any `music:` file is: loudnorm's measuring pass, then the pass
itself) and reads the peak resident size of its largest ffmpeg (`RUSAGE_CHILDREN`).
The figure is the growth from the shortest movie to each longer one; the peak varies by
up to ~20 MB from run to run at any length.

    python bench/audio_memory.py                 # 5 s, 200 s and 600 s movies
    python bench/audio_memory.py --seconds 5 60 200 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import resource, sys
from pathlib import Path
from mindmovie.compose.audio import render_audio
from mindmovie.compose.timeline import AudioBed
from mindmovie.media import run_ffmpeg
seconds, work = float(sys.argv[1]), Path(sys.argv[2])
song = work / "song.wav"
run_ffmpeg(["-f", "lavfi", "-i", f"sine=f=440:d={seconds + 5}", str(song)])
render_audio(AudioBed(song, "sha", seconds, 1.0, 1.0, (), "key"), work)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def peak_mb(seconds: float, root: Path) -> tuple[int, float]:
    """(peak MB of the pass's largest ffmpeg, wall seconds) for a movie of `seconds`."""
    work = Path(tempfile.mkdtemp(prefix=f"m{seconds:g}-", dir=root))
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(seconds), str(work)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(out), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, nargs="+", default=[5.0, 200.0, 600.0])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    lengths = sorted(args.seconds)
    with tempfile.TemporaryDirectory(prefix="mindmovie-bench-audio-") as tmp:
        peaks: dict[float, list[int]] = {s: [] for s in lengths}
        for _ in range(args.repeat):
            for s in lengths:
                mb, wall = peak_mb(s, Path(tmp))
                peaks[s].append(mb)
                print(f"movie {s:6.0f} s: audio pass peak {mb:4d} MB ({wall:.1f} s)", flush=True)
    base = statistics.median(peaks[lengths[0]])
    print(f"\nmedian peak over {args.repeat} run(s), growth from the {lengths[0]:g} s movie:")
    for s in lengths:
        med = statistics.median(peaks[s])
        print(f"  {s:6.0f} s: {med:6.0f} MB  ({med - base:+.0f} MB)")


if __name__ == "__main__":
    main()
