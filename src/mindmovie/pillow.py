"""Pillow's `Image`, with the largest picture it reads raised to a 200 MP phone photo's.

Pillow refuses a picture of over twice `Image.MAX_IMAGE_PIXELS` (179 MP by default) as
a possible decompression bomb: a Galaxy S23/S24 Ultra's 200 MP photo (16320 x 12240,
a ~27 MB JPEG) given in goals.yaml was refused ("save a smaller copy"). The modules that
read a person's photos take `Image` from here, so the limit is set before any of them
opens one. A JPEG is decoded at a reduced scale where the size used allows (`draft`),
so such a photo costs little memory; the limit still turns away a small file that claims
billions of pixels.
"""

from PIL import Image

#: the most pixels a picture may have (twice `Image.MAX_IMAGE_PIXELS`, where Pillow
#: refuses one): over the 200 MP of today's largest phone photos
MAX_PICTURE_PIXELS = 300_000_000

Image.MAX_IMAGE_PIXELS = MAX_PICTURE_PIXELS // 2


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


__all__ = ["MAX_PICTURE_PIXELS", "Image", "exif_adobe_rgb"]
