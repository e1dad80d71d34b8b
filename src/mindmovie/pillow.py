"""Pillow's `Image`, with the largest picture it reads raised to a 200 MP phone photo's.

Pillow refuses a picture of over twice `Image.MAX_IMAGE_PIXELS` (179 MP by default) as
a possible decompression bomb: a Galaxy S23/S24 Ultra's 200 MP photo (16320 x 12240,
a ~27 MB JPEG) given in goals.yaml was refused ("save a smaller copy"). The modules that
read a person's photos take `Image` from here, so the limit is set before any of them
opens one. A JPEG is decoded at a reduced scale where the size used allows (`draft`),
so such a photo costs little memory; the limit still turns away a small file that claims
billions of pixels.
"""

from pathlib import Path

from PIL import Image

#: the most pixels a picture may have (twice `Image.MAX_IMAGE_PIXELS`, where Pillow
#: refuses one): over the 200 MP of today's largest phone photos
MAX_PICTURE_PIXELS = 300_000_000

Image.MAX_IMAGE_PIXELS = MAX_PICTURE_PIXELS // 2


#: CICP colour primaries (ITU-T H.273) an AVIF's `nclx` may name -> their red, green,
#: blue and white chromaticities: BT.709/sRGB (1), BT.2020 (9), Display P3 (12)
CICP_PRIMARIES: dict[int, tuple[tuple[float, float], ...]] = {
    1: ((0.640, 0.330), (0.300, 0.600), (0.150, 0.060), (0.3127, 0.3290)),
    9: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046), (0.3127, 0.3290)),
    12: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060), (0.3127, 0.3290)),
}
#: CICP transfers of HDR: PQ (16) and HLG (18); the SDR ones (BT.709, sRGB, BT.601,
#: BT.2020's) are read and written with sRGB's curve
CICP_PQ, CICP_HLG = 16, 18
#: Adobe RGB (1998), which has no CICP code: (primaries, transfer) as
#: `local_media.nclx_to_srgb` takes them, for a camera's JPEG that says it only in its
#: EXIF (`exif_adobe_rgb`)
ADOBE_RGB = (-1, -1)
CICP_PRIMARIES[ADOBE_RGB[0]] = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060), (0.3127, 0.3290))


def exif_adobe_rgb(im: Image.Image) -> bool:
    """Whether a photo without an ICC profile says by its EXIF that it is Adobe RGB: a
    camera set to Adobe RGB writes its JPEG as DCF's option file, ColorSpace
    'Uncalibrated' (0xFFFF) and interoperability index 'R03', and many (Sony, Canon)
    embed no profile. Its numbers used as sRGB dulled every colour. A JPEG's only (a
    camera's; read from its header: a PNG's EXIF may come after its pixels)."""
    if im.format not in ("JPEG", "MPO") or im.info.get("icc_profile"):
        return False
    try:
        exif = im.getexif()
        space = exif.get_ifd(0x8769).get(0xA001)
        index = exif.get_ifd(0xA005).get(0x0001)
    except Exception:  # a damaged EXIF: the photo as stored
        return False
    if isinstance(index, bytes):
        index = index.decode("ascii", "replace")
    return space == 0xFFFF and isinstance(index, str) and index.strip("\0 ") == "R03"


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """The ISO base media boxes in data[start:end]: (type, body start, body end)."""
    out = []
    i = start
    while i + 8 <= end:
        size = int.from_bytes(data[i : i + 4], "big")
        kind = data[i + 4 : i + 8]
        head = 8
        if size == 1 and i + 16 <= end:
            size, head = int.from_bytes(data[i + 8 : i + 16], "big"), 16
        elif size == 0:
            size = end - i
        if size < head or i + size > end:
            break
        out.append((kind, i + head, i + size))
        i += size
    return out


def _top_box(path: Path, kind: bytes, limit: int = 1 << 22) -> bytes | None:
    """The body of the first top-level box `kind` of an ISO base media file (at most
    `limit` bytes of it), found by skipping the boxes before it (a picture's `mdat` may
    come first); None when there is none or the file cannot be read."""
    try:
        with path.open("rb") as f:
            while head := f.read(8):
                if len(head) < 8:
                    return None
                size, got = int.from_bytes(head[:4], "big"), head[4:]
                skip = size - 8
                if size == 1:
                    size = int.from_bytes(f.read(8), "big")
                    skip = size - 16
                if size != 0 and skip < 0:  # a size smaller than its own header: damaged
                    return None
                if got == kind:
                    body = f.read(min(skip, limit) if size else limit)
                    return body if size == 0 or skip <= limit else None
                if size == 0 or skip < 0:
                    return None
                f.seek(skip, 1)
    except OSError:
        return None
    return None


def avif_nclx(path: Path) -> tuple[int, int] | None:
    """The colour primaries and transfer (CICP codes) an AVIF's `nclx` colour box gives
    its primary picture, or None (not an AVIF, no such box, or one that cannot be read).

    Pillow reads an AVIF's ICC profile but not its `nclx`: libavif uses that box only
    for the YUV matrix, and the RGB it gives is still in the picture's own primaries
    and transfer (a Display P3 or an HDR photo)."""
    data = _top_box(path, b"meta")
    if data is None:
        return None
    meta = {k: (a, b) for k, a, b in _boxes(data, 4, len(data))}  # (a full box)
    if b"iprp" not in meta:
        return None
    iprp = {k: (a, b) for k, a, b in _boxes(data, *meta[b"iprp"])}
    if b"ipco" not in iprp:
        return None
    props = _boxes(data, *iprp[b"ipco"])
    nclx = {
        n: (int.from_bytes(data[a + 4 : a + 6], "big"), int.from_bytes(data[a + 6 : a + 8], "big"))
        for n, (k, a, b) in enumerate(props, start=1)
        if k == b"colr" and data[a : a + 4] == b"nclx" and b - a >= 11
    }
    if not nclx:
        return None
    # the first nclx where the file cannot tell (no primary item named, no item table,
    # or a table that breaks off: an IndexError); None where the table gives the
    # picture none (its entry lacks one, or none is found for it)
    try:
        primary = None
        if b"pitm" in meta:
            a, _b = meta[b"pitm"]
            primary = int.from_bytes(data[a + 4 : a + 6 if data[a] == 0 else a + 8], "big")
        if primary is not None and b"ipma" in iprp:
            a, b = iprp[b"ipma"]
            version, flags = data[a], int.from_bytes(data[a + 1 : a + 4], "big")
            i = a + 4
            count = int.from_bytes(data[i : i + 4], "big")
            i += 4
            for _ in range(count):
                wide = 4 if version >= 1 else 2
                item = int.from_bytes(data[i : i + wide], "big")
                i += wide
                n = data[i]
                i += 1
                for _ in range(n):
                    if flags & 1:
                        index = int.from_bytes(data[i : i + 2], "big") & 0x7FFF
                        i += 2
                    else:
                        index = data[i] & 0x7F
                        i += 1
                    if item == primary and index in nclx:
                        return nclx[index]
                if i > b:
                    break
            return None  # the picture's own colours are no nclx (another item's may be)
    except IndexError:
        pass
    return next(iter(nclx.values()))


def tagged_colours(im: Image.Image, path: Path) -> tuple[int, int] | None:
    """The colours (CICP primaries, transfer; or `ADOBE_RGB`) `local_media.fit_photo`
    converts a photo from because a tag other than an ICC profile names them: an AVIF's
    `nclx` box of Display P3, BT.2020 or an HDR transfer, or a camera's Adobe RGB JPEG
    by its EXIF. None for every other photo, whose pixels the fit makes as it did before
    these conversions (2026-12-06), so their keyframes keep their keys. Read from the
    header, before `exif_transpose` rewrites the EXIF."""
    if im.info.get("icc_profile"):
        return None
    if im.format == "AVIF":
        nclx = avif_nclx(path)
        if nclx is None:
            return None
        return nclx if converted(*nclx) else None
    return ADOBE_RGB if exif_adobe_rgb(im) else None


def converted(primaries: int, transfer: int) -> bool:
    """Whether these colours (CICP codes, or `ADOBE_RGB`) are converted to sRGB
    (`local_media.nclx_to_srgb`): known primaries, other than sRGB's own with an SDR
    transfer."""
    hdr = transfer in (CICP_PQ, CICP_HLG)
    return primaries in CICP_PRIMARIES and (primaries != 1 or hdr)


__all__ = [
    "ADOBE_RGB",
    "CICP_HLG",
    "CICP_PQ",
    "CICP_PRIMARIES",
    "MAX_PICTURE_PIXELS",
    "Image",
    "avif_nclx",
    "converted",
    "exif_adobe_rgb",
    "tagged_colours",
]
