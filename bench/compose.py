"""Benchmark the segment compositor against one plain ffmpeg re-encode of the same clips.

For each N: N synthetic 720p/24 fps clips of 5 s (generated once, cached in --clips-dir)
are composed by our renderer (title + scenes with overlays + crossfades + closing +
music bed, segments in parallel) and, separately, re-encoded by ONE ffmpeg command
(concat demuxer of the same clips, same x264 settings, no overlays, no audio). Each
measurement runs in its own child process, so peak memory is per measurement:
ru_maxrss of the child itself (Python) and of its largest ffmpeg child.
Ours and plain run --repeat times (5) in alternating order and the median of the
per-round ratios is the figure (a shared virtual machine's times vary 10-20 % minute to
minute). Then the engines at --engines-n scenes (12): the ffmpeg engine vs the moviepy
reference engine (moviepy's own API, slow; run --moviepy-repeat times, 1) vs the plain
re-encode, with ratios against the targets. Then the incremental case: recompose after
changing one affirmation out of 12. `--parts` picks what runs (the moviepy engine alone
takes minutes).

    python bench/compose.py --n 6 24                 # everything
    python bench/compose.py --parts engines incremental
    python bench/compose.py --parts scaling --n 6    # no moviepy
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mindmovie.compose import renderer
from mindmovie.compose.ffmpeg import encoder_args, render
from mindmovie.compose.timeline import MovieInput, OutputSpec, SceneInput, build_timeline
from mindmovie.fsutil import sha256_file
from mindmovie.media import clip_matrix, probe, run_ffmpeg

W, H, FPS, SECONDS = 1280, 720, 24, 5.0
PARTS = ("scaling", "engines", "incremental")
#: tagged BT.709 like the local provider's clips (the reference has no word on the video
#: models' tags): the label is written into the H.264 headers after encoding, so the
#: pixels are made exactly as the untagged clips of earlier runs were. An untagged HD
#: clip would cost the moviepy engine a per-frame matrix fix.
TAG709 = ["-bsf:v", "h264_metadata=matrix_coefficients=1:colour_primaries=1:"
          "transfer_characteristics=1:video_full_range_flag=0"]  # fmt: skip
#: targets: ffmpeg engine wall <= this x plain; moviepy wall >= this x ffmpeg engine;
#: incremental wall <= this x full
TARGET_PLAIN, TARGET_MOVIEPY, TARGET_INCREMENTAL = 1.0, 5.0, 0.25


def make_clips(d: Path, n: int) -> list[Path]:
    """n distinct 720p clips: moving test pattern, hue-shifted, light grain, ~6 Mb/s."""
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = d / f"clip{i:02d}.mp4"
        if not p.exists():
            src = f"testsrc2=s={W}x{H}:r={FPS}:d={SECONDS},hue=h={i * 37 % 360},noise=alls=3:allf=t"
            tmp = p.with_suffix(".tmp.mp4")
            args = ["-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "veryfast",
                    "-b:v", "6M", "-maxrate", "8M", "-bufsize", "8M", "-pix_fmt", "yuv420p",
                    *TAG709, str(tmp)]  # fmt: skip
            run_ffmpeg(args)
            tmp.rename(p)
        out.append(p)
    return out


def movie(clips: list[Path], changed: int | None = None) -> MovieInput:
    video = probe(clips[0]).video
    assert video is not None
    matrix = clip_matrix(video)  # the bench clips are all alike
    scenes = tuple(
        SceneInput(
            id=f"s{i:02d}",
            affirmation=(
                f"I am living goal number {i + 1}, calm, grateful and full of energy"
                + (" - today!" if i == changed else ".")
            ),
            seconds=SECONDS,
            clip=c,
            clip_sha256=sha256_file(c),
            clip_matrix=matrix,  # read as the pipeline reads it (media.clip_matrix)
        )
        for i, c in enumerate(clips)
    )
    return MovieInput("My Mind Movie", "Thank you, thank you, thank you.", scenes, None, None)


def spec(quality: str) -> OutputSpec:
    return OutputSpec(W, H, fps=FPS, quality=quality)


def child(args: argparse.Namespace) -> None:
    """One measurement; prints a JSON line with wall time and peak memory."""
    clips = make_clips(Path(args.clips_dir), args.count)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    out = work / "out.mp4"
    result: dict[str, object] = {}
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = me.ru_utime + me.ru_stime  # the imports and clip hashing are not the work
    t0 = time.monotonic()
    if args.child == "ours":
        tl = build_timeline(movie(clips, args.changed), spec(args.quality))
        rep = render(
            tl,
            work / "compose",
            out,
            workers=args.workers or None,
            x264_threads=args.threads or None,
        )
        result["encoded"] = sum(not s.reused for s in rep.segments)
        result["segments"] = len(rep.segments)
        result["frames"] = tl.total_frames
    elif args.child == "moviepy":
        tl = build_timeline(movie(clips, args.changed), spec(args.quality))
        rep = renderer("moviepy")(tl, work / "compose", out, workers=args.workers or None)
        result["encoded"] = result["segments"] = len(rep.segments)
        result["frames"] = tl.total_frames
    else:
        listing = work / "list.txt"
        listing.write_text("".join(f"file '{c}'\n" for c in clips))
        tl = build_timeline(movie(clips), spec(args.quality))
        cmd = ["-f", "concat", "-safe", "0", "-i", str(listing), "-map", "0:v:0",
               *encoder_args(tl, 0), str(out)]  # fmt: skip
        run_ffmpeg(cmd)
        result["frames"] = len(clips) * round(SECONDS * FPS)
    result["wall"] = time.monotonic() - t0
    ch, me = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    result["cpu"] = ch.ru_utime + ch.ru_stime + me.ru_utime + me.ru_stime - cpu0
    result["self_cpu"] = me.ru_utime + me.ru_stime - cpu0
    result["self_maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["child_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["out_frames"] = probe(out, count_frames=True).video_frames
    print(json.dumps(result))


def measure(
    kind: str, count: int, work: Path, ns: argparse.Namespace, changed: int | None = None
) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", kind, "--count", str(count), "--work", str(work),
           "--clips-dir", ns.clips_dir, "--quality", ns.quality,
           "--workers", str(ns.workers), "--threads", str(ns.threads)]  # fmt: skip
    if changed is not None:
        cmd += ["--changed", str(changed)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{proc.stderr[-3000:]}")
    data: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return data


def pairs(
    a: str, b: str, count: int, root: Path, ns: argparse.Namespace
) -> list[tuple[dict[str, float], dict[str, float]]]:
    """`ns.repeat` runs of `a` and `b` at N=count, the order alternating round by round.

    Why: on a shared virtual machine the same command's time varies by 10-20 % from one
    minute to the next (CPU time too: the host's caches and clocks are shared), so one
    pair proves little. Adjacent runs see the same conditions; the median of the
    per-round ratios is what is reported, with its range.
    """
    out = []
    for r in range(ns.repeat):
        order = (a, b) if r % 2 == 0 else (b, a)
        got = {k: measure(k, count, root / f"{k}{count}-{r}", ns) for k in order}
        out.append((got[a], got[b]))
    return out


def _median(xs: list[float]) -> float:
    return statistics.median(xs)


def _spread(xs: list[float]) -> str:
    return f"{min(xs):.2f}-{max(xs):.2f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _mem(r: dict[str, float]) -> str:
    return f"python {r['self_maxrss_mb']:.0f} MB, largest child {r['child_maxrss_mb']:.0f} MB"


def engines(root: Path, ns: argparse.Namespace) -> None:
    """ffmpeg engine vs moviepy engine vs plain re-encode at one N, each in its own child.

    The moviepy engine (it takes ~5x as long) runs `--moviepy-repeat` times (1), each
    right after a round of the ffmpeg engine's pairs; each of its runs is set against
    that round's ffmpeg engine run, and the median of those ratios is reported.
    """
    n = ns.engines_n
    runs: list[tuple[dict[str, float], dict[str, float]]] = []
    mps: list[dict[str, float]] = []
    sub = argparse.Namespace(**{**vars(ns), "repeat": 1})
    for r in range(max(ns.repeat, ns.moviepy_repeat)):
        # one round: the pair in alternating order (as `pairs`), then moviepy
        order = ("ours", "plain") if r % 2 == 0 else ("plain", "ours")
        got = {k: measure(k, n, root / f"eng{k}{n}-{r}", sub) for k in order}
        runs.append((got["ours"], got["plain"]))
        if r < ns.moviepy_repeat:
            mps.append(measure("moviepy", n, root / f"eng-moviepy{n}-{r}", sub))
    mp = mps[len(mps) // 2]
    ours_w = [o["wall"] for o, _ in runs]
    ratios = [o["wall"] / p["wall"] for o, p in runs]
    cpu_ratios = [o["cpu"] / p["cpu"] for o, p in runs]
    ours, plain = runs[0]
    print(f"engines N={n} ({ours['frames']:.0f} frames out; plain {plain['frames']:.0f}):")
    for i, (o, p) in enumerate(runs, 1):
        print(
            f"  round {i}: ffmpeg engine {o['wall']:6.1f} s wall {o['cpu']:6.1f} s cpu, "
            f"plain {p['wall']:6.1f} s wall {p['cpu']:6.1f} s cpu: {o['wall'] / p['wall']:.2f}x"
        )
    mp_ratios = [m["wall"] / o["wall"] for m, (o, _) in zip(mps, runs, strict=False)]
    for i, (m, (o, _)) in enumerate(zip(mps, runs, strict=False), 1):
        print(
            f"  moviepy run {i}: {m['wall']:7.1f} s wall {m['cpu']:7.1f} s cpu "
            f"({m['out_frames']:.0f} frames, {m['out_frames'] / m['wall']:5.1f} fps), "
            f"{m['wall'] / o['wall']:.1f}x round {i}'s ffmpeg engine"
        )
    print(f"  moviepy peak RSS {_mem(mp)}")
    print(f"  ffmpeg engine peak RSS {_mem(ours)}; plain {_mem(plain)}")
    vs_plain, vs_mp = _median(ratios), _median(mp_ratios)
    print(
        f"  ffmpeg engine / plain: median wall {vs_plain:.2f}x ({_spread(ratios)} over "
        f"{len(runs)} rounds), cpu {_median(cpu_ratios):.2f}x "
        f"(target <= {TARGET_PLAIN:.1f}x: {_verdict(vs_plain <= TARGET_PLAIN)})\n"
        f"  moviepy / ffmpeg engine (median ffmpeg {_median(ours_w):.1f} s): median wall "
        f"{vs_mp:.1f}x ({_spread(mp_ratios)} over {len(mps)} run(s)), "
        f"cpu {_median([m['cpu'] for m in mps]) / _median([o['cpu'] for o, _ in runs]):.1f}x "
        f"(target >= {TARGET_MOVIEPY:.0f}x: {_verdict(vs_mp >= TARGET_MOVIEPY)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, nargs="+", default=[6, 24], help="scene counts to try")
    ap.add_argument("--quality", default="standard", choices=["draft", "standard", "high"])
    ap.add_argument("--workers", type=int, default=0, help="segment encoders (0 = cpu count)")
    ap.add_argument("--threads", type=int, default=0, help="x264 threads per segment (0 = auto)")
    ap.add_argument(
        "--incremental", type=int, default=12, help="scenes for the recompose test (0 = skip)"
    )
    ap.add_argument(
        "--clips-dir", default=str(Path(tempfile.gettempdir()) / "mindmovie-bench-clips-709")
    )
    ap.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        default=list(PARTS),
        help="what to run: scaling (ours vs plain for each --n), engines (ffmpeg vs moviepy "
        "vs plain at --engines-n), incremental",
    )
    ap.add_argument("--engines-n", type=int, default=12, help="scenes for the engines part")
    ap.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="rounds of ours vs plain per N (alternating order; the median ratio is reported)",
    )
    ap.add_argument(
        "--moviepy-repeat",
        type=int,
        default=1,
        help="runs of the moviepy engine in the engines part (each takes minutes)",
    )
    ap.add_argument("--child", choices=["ours", "moviepy", "plain"], help=argparse.SUPPRESS)
    ap.add_argument("--count", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--changed", type=int, help=argparse.SUPPRESS)
    ns = ap.parse_args()
    if ns.child:
        child(ns)
        return

    print(f"cpus={os.cpu_count()} quality={ns.quality} workers={ns.workers or 'auto'} "
          f"threads={ns.threads or 'auto'} clips: {W}x{H} {FPS} fps {SECONDS:.0f} s")  # fmt: skip
    make_clips(Path(ns.clips_dir), max([*ns.n, ns.incremental, ns.engines_n]))
    root = Path(tempfile.mkdtemp(prefix="mindmovie-bench-"))
    try:
        for n in ns.n if "scaling" in ns.parts else []:
            runs = pairs("ours", "plain", n, root / "scaling", ns)
            for i, (ours, plain) in enumerate(runs, 1):
                print(
                    f"N={n:3d} round {i}: ours {ours['wall']:6.1f} s wall {ours['cpu']:6.1f} s cpu "
                    f"({ours['out_frames']:.0f} frames, {ours['segments']:.0f} segments)  "
                    f"plain {plain['wall']:6.1f} s wall {plain['cpu']:6.1f} s cpu "
                    f"({plain['out_frames']:.0f} frames)  "
                    f"ratio wall {ours['wall'] / plain['wall']:.2f}x "
                    f"cpu {ours['cpu'] / plain['cpu']:.2f}x"
                )
            ratios = [o["wall"] / p["wall"] for o, p in runs]
            cpu_ratios = [o["cpu"] / p["cpu"] for o, p in runs]
            print(
                f"N={n:3d} median ratio wall {_median(ratios):.2f}x ({_spread(ratios)}), "
                f"cpu {_median(cpu_ratios):.2f}x ({_spread(cpu_ratios)}) over {len(runs)} "
                f"rounds (target <= {TARGET_PLAIN:.1f}x: "
                f"{_verdict(_median(ratios) <= TARGET_PLAIN)})\n        "
                f"peak RSS ours: python {max(o['self_maxrss_mb'] for o, _ in runs):.0f} MB, "
                f"largest ffmpeg {max(o['child_maxrss_mb'] for o, _ in runs):.0f} MB; plain "
                f"ffmpeg {max(p['child_maxrss_mb'] for _, p in runs):.0f} MB; ours' python "
                f"{_median([o['self_cpu'] for o, _ in runs]):.1f} s cpu"
            )
        if "engines" in ns.parts:
            engines(root, ns)
        if ns.incremental and "incremental" in ns.parts:
            n = ns.incremental
            work = root / f"inc{n}"
            full = measure("ours", n, work, ns)
            inc = measure("ours", n, work, ns, changed=n // 2)
            print(
                f"incremental N={n}: full {full['wall']:.1f} s, after one affirmation change "
                f"{inc['wall']:.1f} s ({inc['encoded']:.0f} of {inc['segments']:.0f} segments "
                f"re-encoded) = {100 * inc['wall'] / full['wall']:.0f}% of full "
                f"(target <= {100 * TARGET_INCREMENTAL:.0f}%: "
                f"{_verdict(inc['wall'] / full['wall'] <= TARGET_INCREMENTAL)}); cpu "
                f"{inc['cpu']:.1f} s vs {full['cpu']:.1f} s = {100 * inc['cpu'] / full['cpu']:.0f}%"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
