"""Run the simulator standalone: `python -m tests.sim --port 8765` (from the repo root)."""

from __future__ import annotations

import argparse
import contextlib

from tests.sim.server import SimServer


def main(argv: list[str] | None = None) -> None:
    """Parse flags and serve until interrupted."""
    ap = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--job-seconds", type=float, default=3.0, help="how long each job runs")
    ap.add_argument("--media-scale", type=float, default=None, help="shrink returned media")
    ap.add_argument("--min-polls", type=int, default=0)
    ap.add_argument("--no-auth", action="store_true", help="accept requests without keys")
    ap.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = ap.parse_args(argv)
    sim = SimServer(
        args.host,
        args.port,
        job_seconds=args.job_seconds,
        media_scale=args.media_scale,
        min_polls=args.min_polls,
        require_auth=not args.no_auth,
        verbose=args.verbose,
    )
    base = f"http://{args.host}:{args.port}"
    print(f"mindmovie sim on {base}", flush=True)
    print(f"  Ark:       Ark(base_url='{base}/api/v3', api_key=...)", flush=True)
    print(f"  google:    HttpOptions(base_url='{base}')  (vertexai=True for Veo)", flush=True)
    print(f"  anthropic: Anthropic(base_url='{base}', api_key=...)", flush=True)
    print(f"  control:   {base}/_sim/stats  /_sim/requests  /_sim/faults  /_sim/reset", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        sim.serve_forever()


if __name__ == "__main__":
    main()
