"""Imported last by the fork server (tests/mindmovie_fork.py): the ffmpeg listings a
render checks its ffmpeg by (`doctor.ffmpeg_parts`), asked once, in the server.

Every render runs ffmpeg five times to list its filters, encoders, decoders, muxers and
demuxers (~75 ms of CPU with the process starts), and the answer is cached per process,
keyed by the binary's path, size and modification time. A fork inherits the server's
cache: a render whose ffmpeg is this one (the suite's, as IMAGEIO_FFMPEG_EXE or the
bundled binary gives it) finds it listed; a test's own ffmpeg (another path) is listed as
before. mindmovie's own `media.ffmpeg_exe` is not called here: it caches the path, and a
test's IMAGEIO_FFMPEG_EXE must still be read in the fork.

Each render also runs `ffmpeg -version` once (`media.check_ffmpeg`, cached per process
by the binary's path, size and modification time; ~12 ms of CPU a render): asked here
too, for the same binary, and the path that cached in `media.ffmpeg_exe` forgotten.

The TLS contexts a paid render's clients take (`providers.base.shared_tls`, made once
per process and value of SSL_CERT_FILE / SSL_CERT_DIR, which the suite unsets) are made
here too: each forked render made its own, 16-20 ms of CPU each. A test that sets either
variable gets contexts of its own, as a render would.

The built-in music bed's 32 s cycle (`audio._bed_cycle`, cached per process) is made
here too: every render of a new run synthesised it (~0.1 s of CPU, four inverse FFTs of
768,000 samples), and it depends on nothing but the code.
"""

import contextlib
import os

import imageio_ffmpeg

from mindmovie import doctor, media
from mindmovie.compose import audio
from mindmovie.providers import base

# no ffmpeg, a broken one: the tests that use it say so. multiprocessing's server passes
# over only an ImportError of a preload: anything else ended the server, and every
# forked test failed with an EOFError
with contextlib.suppress(Exception):
    _exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    doctor.ffmpeg_parts(_exe)
    _st = os.stat(_exe)
    media._ffmpeg_runs(_exe, _st.st_size, _st.st_mtime_ns)
# (running it cached the binary's path in `media.ffmpeg_exe`: each fork reads its test's
# IMAGEIO_FFMPEG_EXE, a stand-in's, again)
media.ffmpeg_exe.cache_clear()

for _kind in ("httpx", "httpx2", "certifi"):
    with contextlib.suppress(Exception):
        base.shared_tls(_kind)

audio._bed_cycle()
